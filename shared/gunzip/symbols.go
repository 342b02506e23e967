package gunzip

import "io"

// huffman decodes the symbols of a Huffman block until the block ends (done), the output
// round is full, or an error: in the fast loop while it can, otherwise a symbol at a time
// on the careful path, or after reading more input.
func (d *decoder) huffman() (done bool, err error) {
	outLimit := len(d.out) - outSlack
	for {
		switch {
		case d.op > outLimit:
			return false, nil
		case d.ip <= d.iend-fastInput:
			done, err = d.fast()
		case !d.eof:
			err = d.moreInput()
		default:
			done, err = d.symbol()
		}
		if done || err != nil {
			return done, err
		}
	}
}

// fast decodes while at least fastInput bytes of input are buffered and the round has
// room for an iteration's output, with the decoder's state in locals; the loop has no
// other way out than the end of its budget, of the block, or an error, so that its
// state can stay in registers. A refill gives at least 56 bits: enough for up to three
// literals (15 bits each), or for a length code with its extra bits (20) and a distance
// code with its extra bits (28). Subtable lookups are resolve's expression written out:
// the inlined call measured 2% more instructions per byte here.
func (d *decoder) fast() (done bool, err error) {
	in, out := memOf(d.in), memOf(d.out)
	ip, op := d.ip, d.op
	bitbuf, bitsleft := d.bitbuf, d.bitsleft
	lit, dist := d.litp, d.distp
	// One count instead of two limits (fewer registers in the loop): an iteration
	// consumes at most 14 bytes of input (two refills) and writes at most outSlack bytes.
	n := min((d.iend-fastInput-ip)/14, (len(d.out)-outSlack-op)/outSlack) + 1
	for ; n > 0; n-- {
		bitbuf |= load64(in, ip) << (bitsleft & 63)
		ip += int((63 - bitsleft) >> 3)
		bitsleft |= 56

		e := lit[bitbuf&(1<<litBits-1)]
		if e&subFlag != 0 {
			e = lit[(e>>16+uint32(bitbuf>>litBits)&(1<<(e>>8&15)-1))&(litTableSize-1)]
		}
		if e&litFlag != 0 {
			bitbuf >>= e & 15
			bitsleft -= uint(e & 15)
			store16(out, op, uint16(e>>16))
			op += int(e >> 8 & 3)
			e = lit[bitbuf&(1<<litBits-1)]
			if e&subFlag != 0 {
				e = lit[(e>>16+uint32(bitbuf>>litBits)&(1<<(e>>8&15)-1))&(litTableSize-1)]
			}
			if e&litFlag != 0 {
				bitbuf >>= e & 15
				bitsleft -= uint(e & 15)
				store16(out, op, uint16(e>>16))
				op += int(e >> 8 & 3)
				e = lit[bitbuf&(1<<litBits-1)]
				if e&subFlag != 0 {
					e = lit[(e>>16+uint32(bitbuf>>litBits)&(1<<(e>>8&15)-1))&(litTableSize-1)]
				}
				if e&litFlag != 0 {
					bitbuf >>= e & 15
					bitsleft -= uint(e & 15)
					store16(out, op, uint16(e>>16))
					op += int(e >> 8 & 3)
					continue
				}
			}
			// e was looked up with at least 26 bits left, so it is whole; top the
			// buffer up for its extra bits and a distance.
			bitbuf |= load64(in, ip) << (bitsleft & 63)
			ip += int((63 - bitsleft) >> 3)
			bitsleft |= 56
		}
		bitbuf >>= e & 15
		bitsleft -= uint(e & 15)
		if e&(eobFlag|badFlag) != 0 {
			d.ip, d.op, d.bitbuf, d.bitsleft = ip, op, bitbuf, bitsleft
			if e&eobFlag != 0 {
				return true, nil
			}
			return false, d.corrupt("invalid literal/length code")
		}
		extra := e >> 8 & 15
		length := int(e>>16) + int(bitbuf&(1<<extra-1))
		bitbuf >>= extra
		bitsleft -= uint(extra)

		e = dist[bitbuf&(1<<distBits-1)]
		if e&subFlag != 0 {
			e = dist[(e>>16+uint32(bitbuf>>distBits)&(1<<(e>>8&15)-1))&(litTableSize-1)]
		}
		bitbuf >>= e & 15
		bitsleft -= uint(e & 15)
		extra = e >> 8 & 15
		distance := int(e>>16) + int(bitbuf&(1<<extra-1))
		bitbuf >>= extra
		bitsleft -= uint(extra)
		if e&badFlag != 0 || distance > op {
			d.ip, d.op, d.bitbuf, d.bitsleft = ip, op, bitbuf, bitsleft
			if e&badFlag != 0 {
				return false, d.corrupt("invalid distance code")
			}
			return false, d.corrupt("distance reaches back before the start of the output")
		}
		if distance < 8 {
			op = copyMatch(d.out, op, distance, length)
			continue
		}
		// The usual match, inline: 8 bytes at a time (see copyMatch).
		src, end := op-distance, op+length
		for {
			store64(out, op, load64(out, src))
			op += 8
			src += 8
			if op >= end {
				break
			}
		}
		op = end
	}
	d.ip, d.op, d.bitbuf, d.bitsleft = ip, op, bitbuf, bitsleft
	return false, nil
}

// symbol decodes one symbol on the careful path: the bit buffer is filled a byte at a
// time, and a symbol that would need bits past the end of the input is not written.
func (d *decoder) symbol() (done bool, err error) {
	if d.bitsleft < 48 {
		if err := d.fill(); err != nil {
			return false, err
		}
	}
	e := d.litp[d.bitbuf&(1<<litBits-1)]
	if e&subFlag != 0 {
		e = resolve(d.litp, e, d.bitbuf>>litBits)
	}
	if e&badFlag != 0 && d.shortOf(15) {
		return false, io.ErrUnexpectedEOF // the invalid code may be zeros past the end
	}
	if e&litFlag != 0 && e>>8&3 == 2 {
		// One literal at a time here: the second's bits may be zeros past the end.
		e = e&^(3<<8|15) | 1<<8 | e>>4&15
	}
	d.bitbuf >>= e & 15
	d.bitsleft -= uint(e & 15)
	if d.short() {
		return false, io.ErrUnexpectedEOF
	}
	switch {
	case e&litFlag != 0:
		d.out[d.op] = byte(e >> 16)
		d.op++
		return false, nil
	case e&eobFlag != 0:
		return true, nil
	case e&badFlag != 0:
		return false, d.corrupt("invalid literal/length code")
	}
	extra := e >> 8 & 15
	length := int(e>>16) + int(d.bitbuf&(1<<extra-1))
	d.bitbuf >>= extra
	d.bitsleft -= uint(extra)
	e = d.distp[d.bitbuf&(1<<distBits-1)]
	if e&subFlag != 0 {
		e = resolve(d.distp, e, d.bitbuf>>distBits)
	}
	if e&badFlag != 0 && d.shortOf(15) {
		return false, io.ErrUnexpectedEOF
	}
	d.bitbuf >>= e & 15
	d.bitsleft -= uint(e & 15)
	extra = e >> 8 & 15
	distance := int(e>>16) + int(d.bitbuf&(1<<extra-1))
	d.bitbuf >>= extra
	d.bitsleft -= uint(extra)
	switch {
	case d.short():
		return false, io.ErrUnexpectedEOF
	case e&badFlag != 0:
		return false, d.corrupt("invalid distance code")
	case distance > d.op:
		return false, d.corrupt("distance reaches back before the start of the output")
	}
	d.op = copyMatch(d.out, d.op, distance, length)
	return false, nil
}

// copyMatch copies length bytes from distance back to out[op:], and returns the new op.
// It may write up to 7 bytes past the match (outSlack leaves room): they are overwritten
// by later output before they are part of it.
func copyMatch(out []byte, op, distance, length int) int {
	end := op + length
	src := op - distance
	m := memOf(out)
	switch {
	case distance >= 8:
		// Each 8-byte load reads only bytes already written, even when the match
		// overlaps itself, because they lie at least 8 bytes back.
		for op < end {
			store64(m, op, load64(m, src))
			op += 8
			src += 8
		}
	case distance == 1:
		v := uint64(out[src]) * 0x0101010101010101
		for op < end {
			store64(m, op, v)
			op += 8
		}
	default:
		for op < end {
			out[op] = out[src]
			op++
			src++
		}
	}
	return end
}
