package arc_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/arc"
	"github.com/mailtrust/mailtrust/dkim"
	"github.com/mailtrust/mailtrust/internal/testmail"
)

// TestARCSharedBodyHashers: the author's DKIM signature and the
// ARC-Message-Signature, both relaxed over the whole body, share one body
// hasher; the body written once to the set serves both, and a change of
// the body fails both.
func TestARCSharedBodyHashers(t *testing.T) {
	origin := testmail.LoadKey(t, "../testdata/keys/origin.key.pem", "origin.example", "sel")
	lists := testmail.LoadKey(t, "../testdata/keys/lists.key.pem", "lists.example", "arc1")
	z := testmail.Zone(origin, lists)
	signed := testmail.SignMsgauth(t, testmail.CRLF(testmail.ListMessage), origin)
	sealed := testmail.SealSet(t, signed, lists, "lists.example", arc.None, listResults, testmail.SealTime())

	for _, tc := range []struct {
		name string
		msg  []byte
		want arc.Status
		dkim dkim.Status
	}{
		{"intact", sealed, arc.Pass, dkim.StatusPass},
		{"body changed", append(bytes.Clone(sealed), "appended\r\n"...), arc.Fail, dkim.StatusFail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, body := testmail.Split(t, tc.msg)
			var set dkim.BodyHashers
			dv := dkim.NewVerifier(context.Background(), z, h, &dkim.Options{Time: testmail.ReceiveTime(), BodyHashers: &set})
			av := arc.NewVerifier(context.Background(), z, h, &arc.Options{Time: testmail.ReceiveTime(), BodyHashers: &set})
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
