package gunzip

import "math/bits"

// Decoding tables. A code is decoded with one lookup of the stream's next tableBits bits
// (deflate packs codes starting at their first bit, so the table is indexed by the bits
// as they arrive, least significant first) and, for codes longer than tableBits, a second
// lookup in a subtable. An entry holds everything needed after it is read, so that the
// hot loop does no per-symbol table walking:
//
//	bits  0-3   length of the code in bits (the whole code, also in a subtable); of both
//	            codes for a pair of literals
//	bits  4-7   a pair's first code's length
//	bits  8-11  extra bits that follow the code (lengths, distances); subtable index bits;
//	            for a literal, how many bytes it writes: 1, or 2 for a pair
//	bit  12     literal: the value is the byte (the first byte, and the second in bits 24-31)
//	bit  13     end of block
//	bit  14     subtable pointer: the value is the subtable's start
//	bit  15     invalid code: the stream is corrupt
//	bits 16-31  value: the byte, the length or distance base, the subtable start
const (
	litFlag = 1 << 12
	eobFlag = 1 << 13
	subFlag = 1 << 14
	badFlag = 1 << 15

	litBits  = 11 // main table bits for literal/length codes
	distBits = 8  // and for distance codes
	clBits   = 7  // code length codes are at most 7 bits: no subtables

	// The table size bounds the main table plus every subtable a valid code can need
	// (litlen: at most 144 prefixes with long codes, 16 entries each; distances need
	// fewer), rounded up to a power of two so that indexes are masked rather than
	// bounds-checked. Distance tables have the same size, so one pointer type serves both.
	litTableSize = 8192
)

var (
	// Entries without their code length, per symbol.
	litEntries  [288]uint32
	distEntries [32]uint32
	clEntries   [19]uint32

	fixedLit  [litTableSize]uint32
	fixedDist [litTableSize]uint32 // sized like fixedLit: see decoder.dist
)

func init() {
	lengthBase := [29]uint32{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra := [29]uint32{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase := [30]uint32{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	for s := range litEntries {
		switch {
		case s < 256:
			litEntries[s] = litFlag | 1<<8 | uint32(s)<<16
		case s == 256:
			litEntries[s] = eobFlag
		case s < 286:
			litEntries[s] = lengthBase[s-257]<<16 | lengthExtra[s-257]<<8
		default: // 286 and 287 take part in the fixed code but never appear in valid data
			litEntries[s] = badFlag
		}
	}
	for s := range distEntries {
		if s < 30 {
			// Distance codes 2n and 2n+1 have n-1 extra bits (none for 0-3).
			extra := uint32(max(s/2-1, 0))
			distEntries[s] = distBase[s]<<16 | extra<<8
		} else {
			distEntries[s] = badFlag
		}
	}
	for s := range clEntries {
		clEntries[s] = uint32(s) << 16
	}

	// RFC 1951 3.2.6.
	var lens [288]uint8
	for s := range lens {
		switch {
		case s < 144:
			lens[s] = 8
		case s < 256:
			lens[s] = 9
		case s < 280:
			lens[s] = 7
		default:
			lens[s] = 8
		}
	}
	if !build(fixedLit[:], litBits, lens[:], litEntries[:]) {
		panic("gunzip: fixed literal/length code does not build")
	}
	pairLiterals(&fixedLit)
	var dlens [32]uint8
	for s := range dlens {
		dlens[s] = 5
	}
	if !build(fixedDist[:], distBits, dlens[:], distEntries[:]) {
		panic("gunzip: fixed distance code does not build")
	}
}

// build fills table with the decoding entries of the canonical Huffman code whose code
// lengths are lens (0: symbol unused). ents holds each symbol's entry without its length.
// It reports false for a code deflate does not allow: over-subscribed, or incomplete other
// than a single one-bit code (the rule of zlib and Go's compress/flate). A code with no
// symbols at all builds a table on which every lookup is invalid, so that a block without
// distance codes is corrupt only if it uses one.
func build(table []uint32, tableBits uint, lens []uint8, ents []uint32) bool {
	var count [16]int
	for _, l := range lens {
		count[l]++
	}
	count[0] = 0
	maxLen := 15
	for maxLen > 0 && count[maxLen] == 0 {
		maxLen--
	}
	main := table[:1<<tableBits]
	if maxLen == 0 {
		for i := range main {
			main[i] = badFlag
		}
		return true
	}
	var next [16]int
	code := 0
	for l := 1; l <= 15; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	// Kraft's sum, in units of the longest code: complete when it is exactly 1<<maxLen.
	sum := 0
	for l := 1; l <= maxLen; l++ {
		sum += count[l] << (maxLen - l)
	}
	switch {
	case sum > 1<<maxLen:
		return false
	case sum < 1<<maxLen:
		if !(maxLen == 1 && count[1] == 1) {
			return false
		}
		for i := range main { // the one code's sibling, and everything else, is invalid
			main[i] = badFlag
		}
	}

	// First pass: short codes straight into the main table, and for each prefix of long
	// codes the longest code under it, which sizes its subtable.
	var longest [1 << litBits]uint8
	var prefixes [288]uint16 // prefixes with long codes, in the order first seen
	np := 0
	var codes [288]uint16 // reversed codes, kept for the second pass
	for s, l := range lens {
		if l == 0 {
			continue
		}
		// Deflate sends codes most significant bit first, into a stream read least
		// significant bit first: the table is indexed by the code reversed.
		r := bits.Reverse16(uint16(next[l])) >> (16 - l)
		next[l]++
		codes[s] = r
		if uint(l) <= tableBits {
			e := ents[s] | uint32(l)
			for k := int(r); k < len(main); k += 1 << l {
				main[k] = e
			}
			continue
		}
		p := r & (1<<tableBits - 1)
		if longest[p] == 0 {
			prefixes[np] = p
			np++
		}
		longest[p] = max(longest[p], l)
	}
	start := 1 << tableBits
	for _, p := range prefixes[:np] {
		sub := uint32(uint(longest[p]) - tableBits)
		main[p] = subFlag | uint32(start)<<16 | sub<<8
		start += 1 << sub
	}
	if start > len(table) {
		return false // cannot happen for a complete code (see litTableSize)
	}
	for s, l := range lens {
		if uint(l) <= tableBits {
			continue
		}
		r := codes[s]
		ptr := main[r&(1<<tableBits-1)]
		base := int(ptr >> 16)
		size := 1 << (ptr >> 8 & 15)
		e := ents[s] | uint32(l)
		for k := int(r >> tableBits); k < size; k += 1 << (uint(l) - tableBits) {
			table[base+k] = e
		}
	}
	return true
}

// pairLiterals makes each main-table entry of a literal whose code leaves room in the
// table's bits for a second literal's whole code decode both: on text, where most codes
// are short, that halves the lookups per literal. It goes from the top down because the
// second code is found at the index shifted right by the first's length, an entry not
// yet paired itself.
func pairLiterals(t *[litTableSize]uint32) {
	for i := 1<<litBits - 1; i >= 0; i-- {
		e := t[i]
		if e&litFlag == 0 {
			continue
		}
		l1 := e & 15
		e2 := t[i>>l1]
		if e2&litFlag == 0 || l1+e2&15 > litBits {
			continue
		}
		t[i] = e + 1<<8 | l1<<4 | (e2>>16&0xff)<<24 + e2&15 // two bytes, and both codes' bits
	}
}

// resolve returns the entry in the subtable e points to for rest, the stream's bits after
// the main table's.
func resolve(t *[litTableSize]uint32, e uint32, rest uint64) uint32 {
	return t[(e>>16+uint32(rest)&(1<<(e>>8&15)-1))&(litTableSize-1)]
}
