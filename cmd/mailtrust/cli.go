package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/mailtrust/mailtrust/trust"
)

// Exit codes, after sysexits.h where one fits, so that a script or an MTA
// can act on them.
const (
	exitOK          = 0  // check: trusted or neutral; replay: every case evaluated and as expected; milter: stopped
	exitFailed      = 1  // check: suspicious or untrusted; replay: a case failed or disagreed with its expect; milter: stopped with messages unanswered
	exitUsage       = 64 // EX_USAGE: bad command line
	exitMissing     = 66 // EX_NOINPUT: an input file is missing, a directory or unreadable
	exitUnavailable = 69 // EX_UNAVAILABLE: milter: cannot listen, or serving failed
	exitIOErr       = 74 // EX_IOERR: an output file could not be written
	exitTempFail    = 75 // EX_TEMPFAIL: check: the verdict is incomplete; try again later
)

// checkExit is check's exit code for v: an incomplete verdict is a
// temporary failure whatever its level (a deciding result is still open:
// defer, as for any temperror), then the level decides.
func checkExit(v *trust.Verdict) int {
	switch {
	case v.Incomplete:
		return exitTempFail
	case v.Level == trust.Trusted || v.Level == trust.Neutral:
		return exitOK
	}
	return exitFailed
}

// parseFlags parses args into fs. With -h or -help it prints synopsis and
// fs's flags to stdout and returns exitOK, false; on a bad flag, the error
// (printed by the flag package), synopsis and the flags go to stderr and it
// returns exitUsage, false.
func parseFlags(fs *flag.FlagSet, synopsis string, args []string, stdout, stderr io.Writer) (int, bool) {
	fs.SetOutput(stderr)
	fs.Usage = func() {} // printed below, to the right stream
	err := fs.Parse(args)
	if err == nil {
		return 0, true
	}
	w, code := stderr, exitUsage
	if errors.Is(err, flag.ErrHelp) {
		w, code = stdout, exitOK
	}
	printFlags(w, fs, synopsis)
	return code, false
}

// printFlags writes "usage: synopsis" and fs's flags with their defaults.
func printFlags(w io.Writer, fs *flag.FlagSet, synopsis string) {
	fmt.Fprintf(w, "usage: %s\n\nflags:\n", synopsis)
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// version is the module version the binary was built from ("(devel)" for
// a build inside the source tree), its VCS revision when recorded, and
// the Go release.
func version() string {
	v, rev := "(devel)", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				rev = " " + s.Value[:12]
			}
		}
	}
	return fmt.Sprintf("mailtrust %s%s %s", v, rev, runtime.Version())
}
