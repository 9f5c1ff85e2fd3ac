package arc

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/dkim"
)

// TestARCSharedBodyHashers: the author's DKIM signature and the
// ARC-Message-Signature, both relaxed over the whole body, share one body
// hasher; the body written once to the set serves both, and a change of
// the body fails both.
func TestARCSharedBodyHashers(t *testing.T) {
	origin := loadKey(t, "origin", "origin.example", "sel")
	lists := loadKey(t, "lists", "lists.example", "arc1")
	z := zoneOf(t, origin, lists)
	signed := dkimSign(t, crlf(baseMsg), origin)
	sealed := sealMsg(t, signed, lists, "lists.example", None, listResults, sealTime)

	for _, tc := range []struct {
		name string
		msg  []byte
		want Status
		dkim dkim.Status
	}{
		{"intact", sealed, Pass, dkim.StatusPass},
		{"body changed", append(bytes.Clone(sealed), "appended\r\n"...), Fail, dkim.StatusFail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, body := split(t, tc.msg)
			var set dkim.BodyHashers
			dv := dkim.NewVerifier(context.Background(), z, h, &dkim.Options{Time: recvTime, BodyHashers: &set})
			av := NewVerifier(context.Background(), z, h, &Options{Time: recvTime, BodyHashers: &set})
			assert.Equal(t, 1, set.Len(), "one hasher for both signatures")
			// The verifiers leave the body to the set.
			_, _ = dv.Write([]byte("ignored\r\n"))
			_, _ = av.Write([]byte("ignored\r\n"))
			_, _ = set.Write(body)
			res := dv.Results()
			require.Len(t, res, 1)
			assert.Equal(t, tc.dkim, res[0].Status, "%v", res[0].Err)
			ar := av.Result()
			assert.Equal(t, tc.want, ar.Status, ar.Reason)
		})
	}
}
