package automated

// codes lists the signals' codes, in order.
func codes(s []Signal) []Code {
	out := []Code{}
	for _, x := range s {
		out = append(out, x.Code)
	}
	return out
}
