package sender_test

import (
	"bufio"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailtrust/mailtrust/message"
	"github.com/mailtrust/mailtrust/resolver"
	"github.com/mailtrust/mailtrust/resolver/resolvertest"
	"github.com/mailtrust/mailtrust/sender"
)

const zone = `
$ORIGIN example.com.
@        3600 IN MX  10 mail.example.com.
mail     3600 IN A   192.0.2.10
nomx     3600 IN A   192.0.2.11
$ORIGIN example.org.
@        3600 IN TXT "v=spf1 -all"
; servfail: busy.example.org.
; timeout: slow.example.org.
`

func TestCheck(t *testing.T) {
	z := resolvertest.Zone(t, zone, 20*time.Millisecond)
	srv := resolvertest.Start(t, z)
	srv.Servfail("refusing.example.com.")
	wire := resolvertest.Client(t, srv)
	tests := []struct {
		name string
		want sender.Status
	}{
		{"example.com", sender.StatusExists},
		{"nomx.example.com", sender.StatusExists}, // NODATA: the name exists
		{"Example.ORG", sender.StatusExists},
		{"ghost.example.com", sender.StatusNXDomain},
		{"busy.example.org", sender.StatusTemperror},
		{"slow.example.org", sender.StatusTemperror},
		{"refusing.example.com", sender.StatusTemperror},
		{"bad..name.example", sender.StatusUnknown},
		{"", sender.StatusUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "refusing.example.com" {
				got := sender.Check(context.Background(), wire, tc.name)
				if got.Status != tc.want {
					t.Fatalf("wire: %v, want %s", got, tc.want)
				}
				return
			}
			got := sender.Check(context.Background(), z, tc.name)
			if got.Status != tc.want {
				t.Errorf("zone: %v, want %s", got, tc.want)
			}
			if tc.name == "slow.example.org" {
				return // the loopback server drops nothing: the fault is the zone's
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if got := sender.Check(ctx, wire, tc.name); got.Status != tc.want {
				t.Errorf("wire: %v, want %s", got, tc.want)
			}
			if (got.Status == sender.StatusTemperror || got.Status == sender.StatusUnknown) && got.Err == nil {
				t.Errorf("%s without its error", got.Status)
			}
		})
	}
}

func TestRecipients(t *testing.T) {
	z := resolvertest.Zone(t, zone, 20*time.Millisecond)
	raw := "To: a@example.com, b@ghost.example.com, c@EXAMPLE.com\r\nCc: d@busy.example.org, e@f.example, g@h.example, i@j.example, k@l.example\r\n\r\n"
	h, err := message.ReadHeader(bufio.NewReader(strings.NewReader(raw)), message.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	got := sender.Recipients(context.Background(), z, h, 0)
	want := []struct {
		domain string
		status sender.Status
	}{
		{"example.com", sender.StatusExists},
		{"ghost.example.com", sender.StatusNXDomain},
		{"busy.example.org", sender.StatusTemperror},
		{"f.example", sender.StatusNXDomain},
		{"h.example", sender.StatusNXDomain},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d results %v, want %d (distinct domains, at most %d)", len(got), got, len(want), sender.DefaultMaxRecipientDomains)
	}
	for i, w := range want {
		if got[i].Domain != w.domain || got[i].Status != w.status {
			t.Errorf("[%d] = %v, want %s: %s", i, got[i], w.domain, w.status)
		}
	}
	if n := len(sender.RecipientDomains(h, 2)); n != 2 {
		t.Errorf("RecipientDomains(h, 2) gave %d domains", n)
	}
	if got := sender.Recipients(context.Background(), z, nil, 0); len(got) != 0 {
		t.Errorf("nil header: %v", got)
	}
}

func TestRecipientsExcept(t *testing.T) {
	raw := "To: a@example.com, b@ghost.example.com\r\nCc: c@f.example\r\n\r\n"
	h, err := message.ReadHeader(bufio.NewReader(strings.NewReader(raw)), message.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		desc  string
		rcpt  []string
		asked []string
	}{
		{"no envelope recipients: all asked", nil, []string{"MX example.com.", "MX f.example.", "MX ghost.example.com."}},
		{"own domain not asked", []string{"a@example.com"}, []string{"MX f.example.", "MX ghost.example.com."}},
		{"case, brackets and trailing dot", []string{"<X@Example.COM.>"}, []string{"MX f.example.", "MX ghost.example.com."}},
		{"subdomain is another domain", []string{"a@sub.example.com"}, []string{"MX example.com.", "MX f.example.", "MX ghost.example.com."}},
		{"every domain own: nothing asked", []string{"a@example.com", "b@ghost.example.com", "c@f.example"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			rec := &resolvertest.Questions{Resolver: resolvertest.Zone(t, zone, 20*time.Millisecond)}
			got := sender.RecipientsExcept(context.Background(), rec, h, 0, tc.rcpt)
			if asked := rec.Asked(); !slices.Equal(asked, tc.asked) {
				t.Errorf("asked %q, want %q", asked, tc.asked)
			}
			if len(got) != len(tc.asked) {
				t.Errorf("%d results %v, want one per question", len(got), got)
			}
		})
	}
}

// TestQuestion: Question is the question Check asks, none for a name Check
// refuses before DNS.
func TestQuestion(t *testing.T) {
	cases := []struct {
		name string
		want string // "" when no question is asked
	}{
		{"example.com", "MX example.com."},
		{"Mail.Example.COM.", "MX mail.example.com."},
		{"bad..example.com", ""},
		{"", ""},
		{"nul\x00.example.com", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := ""
			if q, ok := sender.Question(tc.name); ok {
				got = resolver.TypeString(q.Type) + " " + q.Name
			}
			if got != tc.want {
				t.Fatalf("Question(%q) = %q, want %q", tc.name, got, tc.want)
			}
			asked := &resolvertest.Questions{Resolver: resolvertest.Zone(t, zone, 0)}
			sender.Check(context.Background(), asked, tc.name)
			if a := strings.Join(asked.Asked(), ","); a != tc.want {
				t.Errorf("Check asked %q, Question says %q", a, tc.want)
			}
		})
	}
}
