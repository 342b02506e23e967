//go:build !(amd64 || arm64) || gunzip_checked

package gunzip

import "encoding/binary"

// Portable versions of word_unsafe.go's: the same results, with bounds checks (also what
// the tests use with -tags gunzip_checked, to catch an access outside b).

type mem = []byte

func memOf(b []byte) mem { return b }

func load64(b mem, i int) uint64 { return binary.LittleEndian.Uint64(b[i:]) }

func store64(b mem, i int, v uint64) { binary.LittleEndian.PutUint64(b[i:], v) }

func store16(b mem, i int, v uint16) { binary.LittleEndian.PutUint16(b[i:], v) }
