//go:build (amd64 || arm64) && !gunzip_checked

package gunzip

import "unsafe"

// On the little-endian machines logferry runs on (Lambda's x86_64 and arm64), the fast
// loop loads input and copies matches 8 bytes at a time through pointers: without the
// bounds checks binary.LittleEndian needs on each subslice, a match copies in a third of
// the instructions. Callers guarantee i+8 <= len(b) (see the limits in huffman);
// `make test` also runs the package's tests with -tags gunzip_checked, which swaps in
// word_safe.go's bounds-checked versions, so an access outside b panics there.

// mem is where the fast loop reads and writes: a pointer to a slice's first byte here
// (one register, where a slice takes two in a loop short of them), the slice itself in
// word_safe.go.
type mem = unsafe.Pointer

func memOf(b []byte) mem { return unsafe.Pointer(unsafe.SliceData(b)) }

func load64(m mem, i int) uint64 { return *(*uint64)(unsafe.Add(m, i)) }

func store64(m mem, i int, v uint64) { *(*uint64)(unsafe.Add(m, i)) = v }

func store16(m mem, i int, v uint16) { *(*uint16)(unsafe.Add(m, i)) = v }
