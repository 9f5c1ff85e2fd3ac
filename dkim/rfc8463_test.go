package dkim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/resolver"
)

// The ed25519-sha256 example of RFC 8463 Appendix A: key (A.2) and signed
// message (A.3). The RFC's second, rsa-sha256 signature is left out; the
// ed25519 one does not cover it.
const rfc8463Message = "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n" +
	" d=football.example.com; i=@football.example.com;\r\n" +
	" q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n" +
	" subject : date : message-id : from : subject : date;\r\n" +
	" bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n" +
	" b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\r\n" +
	" Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==\r\n" +
	"From: Joe SixPack <joe@football.example.com>\r\n" +
	"To: Suzie Q <suzie@shopping.example.net>\r\n" +
	"Subject: Is dinner ready?\r\n" +
	"Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n" +
	"Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n" +
	"\r\n" +
	"Hi.\r\n" +
	"\r\n" +
	"We lost the game.  Are you hungry yet?\r\n" +
	"\r\n" +
	"Joe.\r\n"

func TestRFC8463Example(t *testing.T) {
	z := resolver.NewZone()
	z.Add(mustRR(t, `brisbane._domainkey.football.example.com. 300 IN TXT "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="`))
	at := time.Date(2018, 6, 10, 13, 38, 29, 0, time.UTC)
	res := verifyString(t, z, rfc8463Message, &Options{Time: at})
	require.Len(t, res, 1)
	assert.Equal(t, StatusPass, res[0].Status, "%v", res[0].Err)
	assert.Equal(t, "football.example.com", res[0].Domain)
	assert.Equal(t, []string{"from", "to", "subject", "date", "message-id", "from", "subject", "date"}, res[0].SignedHeaders)
	assert.Equal(t, int64(1528637909), res[0].Timestamp.Unix())

	tampered := rfc8463Message[:len(rfc8463Message)-len("Joe.\r\n")] + "Jim.\r\n"
	res = verifyString(t, z, tampered, &Options{Time: at})
	assert.Equal(t, StatusFail, res[0].Status)
}
