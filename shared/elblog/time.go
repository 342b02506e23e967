package elblog

// timeCache parses the log's UTC time, YYYY-MM-DDTHH:MM:SS[.fraction][Z], into Unix
// nanoseconds (hand-written: time.Parse is a large share of a line's budget),
// remembering the last few minutes it validated: lines come in time order, so most share
// theirs with a line before, and only the seconds are left to read. A few, not one: a
// line's other times (NLB's tls_connection_creation_time, ALB's request_creation_time, a
// client certificate's NotBefore and NotAfter) fall in other minutes, and one slot made
// them evict the line's.
type timeCache struct {
	prefix [timeSlots][16]byte // YYYY-MM-DDTHH:MM
	minute [timeSlots]int64    // its Unix seconds
	used   int                 // slots filled
	next   int                 // the slot to fill next (round robin)
}

const timeSlots = 4

func (c *timeCache) parse(b []byte) (int64, bool) {
	if len(b) < 19 {
		return 0, false
	}
	p := [16]byte(b[:16])
	for i := range c.used {
		if c.prefix[i] == p {
			return parseSeconds(c.minute[i], b[16:])
		}
	}
	minute, ok := parseMinute(b[:16])
	if !ok {
		return 0, false
	}
	i := c.next
	c.prefix[i], c.minute[i] = p, minute
	c.next, c.used = (i+1)%timeSlots, max(c.used, i+1)
	return parseSeconds(minute, b[16:])
}

// parseMinute parses YYYY-MM-DDTHH:MM into Unix seconds.
func parseMinute(b []byte) (int64, bool) {
	if len(b) != 16 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' {
		return 0, false
	}
	year, ok1 := digits(b[0:4])
	month, ok2 := digits(b[5:7])
	day, ok3 := digits(b[8:10])
	hour, ok4 := digits(b[11:13])
	minute, ok5 := digits(b[14:16])
	// Years before 1970 cannot be ELB log times (and would need negative Unix times).
	if !(ok1 && ok2 && ok3 && ok4 && ok5) || year < 1970 || month < 1 || month > 12 || day < 1 ||
		day > daysIn(month, year) || hour > 23 || minute > 59 {
		return 0, false
	}
	days := daysFromCivil(year, month, day)
	return days*86400 + int64(hour)*3600 + int64(minute)*60, true
}

// parseSeconds parses :SS[.fraction][Z], the rest of a time after the minute (in Unix
// seconds), into Unix nanoseconds.
func parseSeconds(minute int64, b []byte) (int64, bool) {
	if len(b) < 3 || b[0] != ':' {
		return 0, false
	}
	second, ok := digits(b[1:3])
	if !ok || second > 60 {
		return 0, false
	}
	rest := b[3:]
	if len(rest) == 8 && rest[0] == '.' && rest[7] == 'Z' {
		// The usual fraction, microseconds (ALB, Classic, connection logs): the six
		// digits as one number, not each scaled in the loop below.
		us, ok := digits(rest[1:7])
		return (minute+int64(second))*1e9 + int64(us)*1000, ok
	}
	var nanos int64
	if len(rest) > 0 && rest[0] == '.' {
		n := 1
		scale := int64(100_000_000)
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			if n <= 9 {
				nanos += int64(rest[n]-'0') * scale
				scale /= 10
			}
			n++
		}
		if n == 1 {
			return 0, false
		}
		rest = rest[n:]
	}
	if len(rest) == 1 && rest[0] == 'Z' {
		rest = rest[1:]
	}
	if len(rest) != 0 {
		return 0, false
	}
	return (minute+int64(second))*1e9 + nanos, true
}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil counts days since 1970-01-01 (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era*146097 + doe - 719468)
}
