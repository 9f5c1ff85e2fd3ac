package dkim

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	gmdkim "github.com/emersion/go-msgauth/dkim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailtrust/mailtrust/resolver"
)

func TestKeyCacheParse(t *testing.T) {
	k := keys(t)
	rec := pubRecord(t, k.rsaA, "")
	var c KeyCache
	k1, err := c.Parse(rec)
	require.NoError(t, err)
	want, err := ParseKeyRecord(rec)
	require.NoError(t, err)
	assert.Equal(t, want, k1, "the cache parses as ParseKeyRecord does")
	k2, err := c.Parse(rec)
	require.NoError(t, err)
	assert.Same(t, k1, k2, "a record met again is not parsed again")
	assert.Equal(t, 1, c.Len())

	// Errors are kept too, and stay the same error.
	_, err1 := c.Parse("v=DKIM1; p=")
	_, err2 := c.Parse("v=DKIM1; p=")
	assert.ErrorIs(t, err1, ErrKeyRevoked)
	assert.ErrorIs(t, err2, ErrKeyRevoked)
	_, err = c.Parse("v=DKIM1; k=rsa; p=!!")
	assert.ErrorIs(t, err, ErrKeyMalformed)
	assert.Equal(t, 3, c.Len())

	// A nil cache parses every time.
	var nc *KeyCache
	k3, err := nc.Parse(rec)
	require.NoError(t, err)
	assert.Equal(t, want, k3)
	assert.Zero(t, nc.Len())
}

func TestKeyCacheBounded(t *testing.T) {
	c := KeyCache{Size: 3}
	for i := range 10 {
		c.Parse(fmt.Sprintf("v=DKIM1; k=ed25519; p=%d", i)) // malformed: kept with its error
		assert.LessOrEqual(t, c.Len(), 3)
	}
	assert.Equal(t, 3, c.Len())
}

// TestKeyCacheFollowsDNS: the cache is keyed by the record DNS returns, so
// a key revoked or rotated after it was cached is seen at once.
func TestKeyCacheFollowsDNS(t *testing.T) {
	k := keys(t)
	msg := sign(t, testMessage, gm(k.rsaA, "rsa1", gmdkim.CanonicalizationRelaxed, gmdkim.CanonicalizationRelaxed))
	cache := &KeyCache{}
	opts := &Options{Time: time.Now(), KeyCache: cache}

	live := testZone(t)
	res := verifyString(t, live, msg, opts)
	require.Len(t, res, 1)
	assert.Equal(t, StatusPass, res[0].Status)
	assert.Equal(t, 1, cache.Len())

	revoked := resolver.NewZone()
	revoked.Add(txtRR(t, "rsa1._domainkey.example.com", "v=DKIM1; k=rsa; p="))
	res = verifyString(t, revoked, msg, opts)
	require.Len(t, res, 1)
	assert.Equal(t, StatusPermerror, res[0].Status)
	assert.ErrorIs(t, res[0].Err, ErrKeyRevoked)

	rotated := resolver.NewZone()
	rotated.Add(txtRR(t, "rsa1._domainkey.example.com", pubRecord(t, k.rsaB, "")))
	res = verifyString(t, rotated, msg, opts)
	require.Len(t, res, 1)
	assert.Equal(t, StatusFail, res[0].Status, "signed with the old key, verified with the new: fail")

	// Back to the first key: served from the cache, same verdict.
	res = verifyString(t, live, msg, opts)
	assert.Equal(t, StatusPass, res[0].Status)
	assert.Equal(t, 3, cache.Len())
}

func TestKeyCacheConcurrent(t *testing.T) {
	k := keys(t)
	recs := []string{pubRecord(t, k.rsaA, ""), pubRecord(t, k.rsaB, ""), pubRecord(t, k.edA, ""), "v=DKIM1; p="}
	c := KeyCache{Size: 2}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				rec := recs[(g+i)%len(recs)]
				key, err := c.Parse(rec)
				if rec == "v=DKIM1; p=" {
					if !errors.Is(err, ErrKeyRevoked) {
						t.Errorf("revoked record: %v", err)
					}
				} else if err != nil || key.Record != rec {
					t.Errorf("Parse: %v", err)
				}
			}
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, c.Len(), 2)
}

func TestKeyCacheLookup(t *testing.T) {
	var c KeyCache
	z := testZone(t)
	key, err := c.Lookup(context.Background(), z, "sel", "example.com") // through the CNAME
	require.NoError(t, err)
	assert.Equal(t, 2048, key.Bits)
	_, err = c.Lookup(context.Background(), z, "servfail", "example.com")
	assert.ErrorIs(t, err, ErrKeyUnavailable)
	assert.Equal(t, 1, c.Len(), "a failed lookup leaves nothing behind")
}
