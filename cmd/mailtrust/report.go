package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/mailtrust/mailtrust/trust"
)

// report prints a verdict for people, as spamassassin -t does: the level
// and the score against the thresholds, each check's result, then every
// reason with its weight, its detail and what it means and why it weighs
// what it weighs (trust.Signals), and the Authentication-Results field.
func report(w io.Writer, v *trust.Verdict, t trust.Thresholds) {
	if v.Has(trust.NotAMessage) {
		fmt.Fprintf(w, "not an Internet message: %s\n\n", v.Reasons[0].Detail)
	}
	inc := ""
	if v.Incomplete {
		inc = " (incomplete: a DNS lookup failed temporarily; defer rather than reject)"
	}
	fmt.Fprintf(w, "verdict  %s  score %.2f%s\n", v.Level, v.Score, inc)
	fmt.Fprintf(w, "levels   %s\n", thresholdLine(v.Score, t))
	if v.From.Address != "" {
		fmt.Fprintf(w, "from     %s\n", v.From.Address)
	}
	if !v.Has(trust.NotAMessage) {
		fmt.Fprintln(w)
		checks(w, v)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "reasons (by weight)")
	sum := 0.0
	for _, r := range v.Reasons {
		sum += r.Weight
		fmt.Fprintf(w, "  %+6.2f  %s", r.Weight, r.Code)
		if r.Detail != "" {
			fmt.Fprintf(w, "  %s", r.Detail)
		}
		fmt.Fprintln(w)
		if doc := r.Doc(); doc != "" {
			for _, line := range wrap(doc, 68) {
				fmt.Fprintf(w, "          %s\n", line)
			}
		}
	}
	if len(v.Reasons) == 0 {
		fmt.Fprintln(w, "  (none)")
	}
	if d := v.Score - sum; d > 0.005 || d < -0.005 {
		fmt.Fprintf(w, "  the weights add up to %.2f; group caps make the score %.2f\n", sum, v.Score)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, v.AuthenticationResults)
}

// thresholdLine places score among the level thresholds:
// "trusted <= -2.50 < neutral < 2.50 <= suspicious < 6.00 <= untrusted".
func thresholdLine(score float64, t trust.Thresholds) string {
	return fmt.Sprintf("%.2f against trusted <= %.2f < neutral < %.2f <= suspicious < %.2f <= untrusted",
		score, t.Trusted, t.Suspicious, t.Untrusted)
}

// checks prints one line per check.
func checks(w io.Writer, v *trust.Verdict) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "check\tresult\tdetail\n")
	fmt.Fprintf(tw, "spf\t%s\t%s %s %s\n", v.SPF.Status, v.SPF.Identity, v.SPF.Domain, firstNonEmpty(v.SPF.Mechanism, v.SPF.Reason))
	if len(v.DKIM) == 0 {
		fmt.Fprintf(tw, "dkim\tnone\tno signature\n")
	}
	for _, d := range v.DKIM {
		fmt.Fprintf(tw, "dkim\t%s\td=%s s=%s %s\n", d.Status, d.Domain, d.Selector, d.Reason)
	}
	fmt.Fprintf(tw, "dmarc\t%s\t%s p=%s %s\n", v.DMARC.Status, v.DMARC.Domain, v.DMARC.Policy, v.DMARC.Reason)
	fmt.Fprintf(tw, "arc\t%s\t%s\n", v.ARC.Status, v.ARC.Reason)
	fmt.Fprintf(tw, "ptr\t%s\t%s\n", v.PTR.Status, strings.Join(v.PTR.Names, " "))
	fmt.Fprintf(tw, "helo\t%s\t%s %s\n", v.HELO.Status, v.HELO.Name, v.HELO.Code)
	fmt.Fprintf(tw, "forwarded\t%v\t%s\n", v.Forward.Forwarded, v.Forward.OriginalSender)
	fmt.Fprintf(tw, "automated\t%v\t\n", v.Automated.Automated)
	tw.Flush()
}

// wrap breaks s into lines of at most width runes, at spaces; a word
// longer than width stands alone.
func wrap(s string, width int) []string {
	var lines []string
	var cur strings.Builder
	n := 0
	for _, word := range strings.Fields(s) {
		l := len([]rune(word))
		if n > 0 && n+1+l > width {
			lines = append(lines, cur.String())
			cur.Reset()
			n = 0
		}
		if n > 0 {
			cur.WriteByte(' ')
			n++
		}
		cur.WriteString(word)
		n += l
	}
	if n > 0 {
		lines = append(lines, cur.String())
	}
	return lines
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
