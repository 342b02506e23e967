package elblog

// parseTime parses the log's UTC time, YYYY-MM-DDTHH:MM:SS[.fraction][Z], into Unix
// nanoseconds. Hand-written because time.Parse is a large share of a line's budget.
func parseTime(b []byte) (int64, bool) {
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return 0, false
	}
	year, ok1 := digits(b[0:4])
	month, ok2 := digits(b[5:7])
	day, ok3 := digits(b[8:10])
	hour, ok4 := digits(b[11:13])
	minute, ok5 := digits(b[14:16])
	second, ok6 := digits(b[17:19])
	// Years before 1970 cannot be ELB log times (and would need negative Unix times).
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || year < 1970 || month < 1 || month > 12 || day < 1 ||
		day > daysIn(month, year) || hour > 23 || minute > 59 || second > 60 {
		return 0, false
	}
	rest := b[19:]
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
	days := daysFromCivil(year, month, day)
	secs := days*86400 + int64(hour)*3600 + int64(minute)*60 + int64(second)
	return secs*1e9 + nanos, true
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
