package demo

// idWeights are the GB 11643-1999 weights of the first 17 digits of a
// resident ID number (2^(18-i) mod 11).
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// idCheckChars maps the weighted sum mod 11 to the check character; 10 is
// written X, which is why about one ID number in eleven ends in X.
const idCheckChars = "10X98765432"

// IDCheckDigit returns the GB 11643 check character (0-9 or X) of the first
// 17 digits of a resident ID number. It panics on anything but 17 digits:
// it is only called on numbers this package builds.
func IDCheckDigit(first17 string) byte {
	if len(first17) != 17 {
		panic("demo: IDCheckDigit needs 17 digits")
	}
	sum := 0
	for i := range 17 {
		d := first17[i]
		if d < '0' || d > '9' {
			panic("demo: IDCheckDigit needs 17 digits")
		}
		sum += int(d-'0') * idWeights[i]
	}
	return idCheckChars[sum%11]
}

// ValidIDNumber reports whether s is 18 characters whose last one is the
// GB 11643 check character of the first 17 digits.
func ValidIDNumber(s string) bool {
	if len(s) != 18 {
		return false
	}
	for i := range 17 {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return IDCheckDigit(s[:17]) == s[17]
}
