package testmail

import (
	"crypto/rsa"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/arc"
)

func TestSplitPrependEditField(t *testing.T) {
	msg := CRLF("From: a@origin.example\nSubject: one\nX-Note: Subject: not this\nSubject: two\n\nbody\n")
	h, body := Split(t, msg)
	require.Len(t, h.Fields, 4)
	assert.Equal(t, "body\r\n", string(body))

	p := Prepend(msg, "List-Id: <team.lists.example>")
	assert.True(t, strings.HasPrefix(string(p), "List-Id: <team.lists.example>\r\nFrom: "))

	upper := func(raw string) string { return strings.ToUpper(raw) }
	tests := []struct {
		name, marker, want string
	}{
		{"field name matches the first field of that name, any case", "subject:", "From: a@origin.example\r\nSUBJECT: ONE\r\nX-Note: Subject: not this\r\nSubject: two\r\n\r\nbody\r\n"},
		{"other marker matches the first field containing it", "Subject: not", "From: a@origin.example\r\nSubject: one\r\nX-NOTE: SUBJECT: NOT THIS\r\nSubject: two\r\n\r\nbody\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, string(EditField(t, msg, tt.marker, upper)))
		})
	}
}

func TestFlipSig(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ARC-Seal: i=1; cv=none; b=xyz", "ARC-Seal: i=1; cv=none; b=Ayz"},
		{"DKIM-Signature: bh=Q; b=Abc", "DKIM-Signature: bh=Q; b=Bbc"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, FlipSig(tt.in), tt.in)
	}
}

func TestReadKey(t *testing.T) {
	k, err := ReadKey(filepath.Join("..", "..", "testdata", "keys", "lists.key.pem"))
	require.NoError(t, err)
	assert.IsType(t, &rsa.PrivateKey{}, k)

	_, err = ReadKey(filepath.Join(t.TempDir(), "absent.pem"))
	assert.ErrorIs(t, err, os.ErrNotExist)

	notPEM := filepath.Join(t.TempDir(), "x.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("not a key"), 0o600))
	_, err = ReadKey(notPEM)
	assert.ErrorContains(t, err, "no PEM block")
}

func TestTXTRecord(t *testing.T) {
	rr := TXTRecord("sel._domainkey.origin.example", strings.Repeat("k", 600)).(*dns.TXT)
	assert.Equal(t, "sel._domainkey.origin.example.", rr.Hdr.Name)
	require.Len(t, rr.Txt, 3)
	assert.Equal(t, []int{255, 255, 90}, []int{len(rr.Txt[0]), len(rr.Txt[1]), len(rr.Txt[2])})
}

// TestSealSetVerifyARC: a set SealSet adds verifies against the key Zone
// publishes, and not against an empty zone.
func TestSealSetVerifyARC(t *testing.T) {
	k := NewEd25519Key(t, "lists.example", "ed")
	sealed := SealSet(t, CRLF(ListMessage), k, "lists.example", arc.None, []string{"spf=pass smtp.mailfrom=origin.example"}, SealTime())
	assert.Equal(t, arc.Pass, VerifyARC(t, Zone(k), sealed, ReceiveTime()).Status)
	assert.Equal(t, arc.Fail, VerifyARC(t, Zone(), sealed, ReceiveTime()).Status)
}
