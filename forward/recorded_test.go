package forward

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestReadAuthResults(t *testing.T) {
	tests := []struct {
		in   string
		want Recorded
	}{
		{" mx.Example.NET; spf=pass smtp.mailfrom=a@example.org; dkim=fail header.d=other.example; dkim=pass header.d=example.org; dmarc=pass header.from=example.org; arc=none; iprev=pass policy.iprev=192.0.2.10",
			Recorded{AuthServID: "mx.example.net", SPF: "pass", DKIM: "pass", DMARC: "pass", ARC: "none", IPRev: "pass"}},
		{"mx.example.net 1; spf=softfail (comment) smtp.mailfrom=example.org", Recorded{AuthServID: "mx.example.net", SPF: "softfail"}},
		{"mx.example.net; none", Recorded{AuthServID: "mx.example.net"}},
		{"", Recorded{}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, ReadAuthResults(tt.in, "example.org"), tt.in)
	}
}
