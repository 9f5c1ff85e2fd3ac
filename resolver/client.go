package resolver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Client defaults.
const (
	// DefaultTimeout bounds one exchange with one server.
	DefaultTimeout = 2 * time.Second
	// DefaultUDPSize is the EDNS(0) payload size advertised (RFC 6891
	// §6.2.5; 1232 octets avoids IP fragmentation, per the DNS flag day 2020).
	DefaultUDPSize = 1232
)

// Client is a stub resolver speaking the DNS protocol (RFC 1035 §4) to
// recursive servers, built on github.com/miekg/dns. Unlike System it sees
// the real TTLs, the SOA of negative answers and the CNAME chain, and tells
// NXDOMAIN from NODATA exactly.
//
// Each question goes over UDP with EDNS(0) and is asked again over TCP
// when the answer comes truncated (RFC 7766 §5, RFC 1035 §4.2.1) or, with
// TC unset, larger than the buffer advertised. Over UDP, datagrams that do
// not parse or do not match the question (ID, name, type, class) are
// ignored and the read goes on until the exchange's deadline (RFC 5452
// §9.1), so that junk an off-path sender aims at our port can neither end
// nor answer the question. A CNAME chain the server left unfinished is
// followed by asking the target (RFC 1034 §3.6.2), at most 8 aliases; a
// loop fails with ErrPermanent.
//
// Rcodes: NOERROR is an answer (NODATA when empty), NXDOMAIN an answer with
// Rcode dns.RcodeNameError and no records, whatever the answer section
// holds beside the chain that led there (RFC 6604 §2.1: the rcode is the
// authority); SERVFAIL, REFUSED, a timeout, a network error or a TCP reply
// that is malformed or answers another question fail with ErrTemporary
// after trying the next server; FORMERR, NOTIMP and the other rcodes fail
// with ErrPermanent.
//
// Every round trip is charged to the budget of the Memo that asked, if
// any (see Memo).
//
// A Client is safe for concurrent use; it keeps no connection between
// questions and caches nothing (put a Cache in front).
type Client struct {
	// Servers are the recursive servers, "host:port", tried in order.
	Servers []string
	// Timeout bounds one exchange with one server: the UDP question and
	// the TCP retry it may need, together, within the ctx of the
	// question. Zero means DefaultTimeout.
	Timeout time.Duration
	// Retries is the number of further attempts after a temporary
	// failure, each with the next server. Zero means 1; negative, none.
	Retries int
	// UDPSize is the EDNS(0) payload size advertised. Zero means
	// DefaultUDPSize.
	UDPSize uint16
}

// ClientFromResolvConf returns a Client asking the nameservers of a
// resolv.conf(5) file, such as /etc/resolv.conf. Its search list, ndots,
// timeout and attempts options are ignored: questions are always fully
// qualified and the Client's own defaults apply.
func ClientFromResolvConf(path string) (*Client, error) {
	cc, err := dns.ClientConfigFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("resolver: %s: %w", path, err)
	}
	c := &Client{}
	for _, s := range cc.Servers {
		c.Servers = append(c.Servers, net.JoinHostPort(s, cc.Port))
	}
	if len(c.Servers) == 0 {
		return nil, fmt.Errorf("resolver: %s: no nameserver", path)
	}
	return c, nil
}

// Lookup implements Resolver.
func (c *Client) Lookup(ctx context.Context, name string, qtype uint16) (*Answer, error) {
	q := question(name, qtype)
	if err := CheckName(q.Name); err != nil {
		return nil, &Error{Name: q.Name, Type: qtype, Rcode: -1, Reason: "invalid name", Kind: ErrPermanent, Err: err}
	}
	if len(c.Servers) == 0 {
		return nil, &Error{Name: q.Name, Type: qtype, Rcode: -1, Reason: "no servers", Kind: ErrPermanent}
	}
	ans := &Answer{Name: q.Name, Type: qtype}
	ttl := ^uint32(0)
	cur := q.Name
	seen := map[string]bool{cur: true}
	for {
		m, err := c.exchange(ctx, q, cur)
		if err != nil {
			var e *Error
			if errors.As(err, &e) {
				e.CNAMEs = ans.CNAMEs
			}
			return nil, err
		}
		var records []dns.RR
		advanced := false
	walk:
		for {
			for _, rr := range m.Answer {
				h := rr.Header()
				if h.Rrtype == qtype && h.Class == dns.ClassINET && strings.EqualFold(h.Name, cur) {
					h.Name = cur
					records = append(records, rr)
				}
			}
			if len(records) > 0 || qtype == dns.TypeCNAME {
				break
			}
			for _, rr := range m.Answer {
				cn, ok := rr.(*dns.CNAME)
				if !ok || !strings.EqualFold(cn.Hdr.Name, cur) {
					continue
				}
				target := Fqdn(cn.Target)
				cn.Hdr.Name = cur
				if seen[target] || len(ans.CNAMEs) >= maxCNAMEs {
					// The chain goes with the error, so that a Recorder
					// can write the loop and a replay meets it too.
					return nil, &Error{Name: q.Name, Type: qtype, Rcode: -1, Reason: "CNAME loop", Kind: ErrPermanent,
						CNAMEs: append(ans.CNAMEs, cn)}
				}
				seen[target] = true
				ans.CNAMEs = append(ans.CNAMEs, cn)
				ttl = min(ttl, wireTTL(cn.Hdr.Ttl))
				cur = target
				advanced = true
				continue walk
			}
			break
		}
		if m.Rcode == dns.RcodeNameError {
			// The rcode is the authority (RFC 1035 §4.1.1, RFC 6604 §2.1:
			// it speaks of the last name of the chain): records of the
			// type beside NXDOMAIN contradict it and are dropped, not
			// taken as a positive answer.
			records = nil
		}
		if len(records) > 0 {
			for _, rr := range records {
				ttl = min(ttl, wireTTL(rr.Header().Ttl))
			}
			ans.Rcode = dns.RcodeSuccess
			ans.Records = records
			ans.TTL = ttl
			return ans, nil
		}
		var soa *dns.SOA
		for _, rr := range m.Ns {
			if s, ok := rr.(*dns.SOA); ok {
				soa = s
				break
			}
		}
		if advanced && m.Rcode == dns.RcodeSuccess && soa == nil {
			// The chain stops at a name the server did not follow (an
			// authoritative server whose target lies in another zone):
			// ask the target ourselves. A negative answer to the chain
			// would carry the target zone's SOA (RFC 2308 §3).
			continue
		}
		ans.Rcode = m.Rcode
		ans.SOA = soa
		if soa != nil {
			soa.Hdr.Ttl = wireTTL(soa.Hdr.Ttl)
		}
		ans.TTL = min(ttl, negativeTTL(soa))
		return ans, nil
	}
}

// wireTTL reads a TTL as received: RFC 2181 §8, a value with the most
// significant bit set counts as zero.
func wireTTL(ttl uint32) uint32 {
	if ttl > 1<<31-1 {
		return 0
	}
	return ttl
}

func (c *Client) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

func (c *Client) udpSize() uint16 {
	if c.UDPSize >= dns.MinMsgSize {
		return c.UDPSize
	}
	return DefaultUDPSize
}

// exchange asks (cur, q.Type) and returns a NOERROR or NXDOMAIN reply,
// trying the next server after a temporary failure.
func (c *Client) exchange(ctx context.Context, q Question, cur string) (*dns.Msg, error) {
	attempts := 1 + c.Retries
	if c.Retries == 0 {
		attempts = 2
	}
	attempts = max(attempts, 1)
	var last error
	for i := 0; i < attempts; i++ {
		if err := ctx.Err(); err != nil {
			return nil, contextError(q, err)
		}
		server := c.Servers[i%len(c.Servers)]
		m, err := c.ask(ctx, q, cur, server, true)
		if err == nil && m.Rcode == dns.RcodeFormatError && m.IsEdns0() == nil {
			// RFC 6891 §7: a server that does not know EDNS answers
			// FORMERR without OPT; ask it again without.
			m, err = c.ask(ctx, q, cur, server, false)
		}
		if err != nil {
			if !errors.Is(err, ErrTemporary) {
				return nil, err
			}
			last = err
			continue
		}
		switch m.Rcode {
		case dns.RcodeSuccess, dns.RcodeNameError:
			return m, nil
		case dns.RcodeServerFailure, dns.RcodeRefused:
			last = c.fail(q, cur, server, m.Rcode, ErrTemporary, dns.RcodeToString[m.Rcode], nil)
		default:
			return nil, c.fail(q, cur, server, m.Rcode, ErrPermanent, rcodeString(m.Rcode), nil)
		}
	}
	return nil, last
}

func rcodeString(rcode int) string {
	if s, ok := dns.RcodeToString[rcode]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", rcode)
}

func (c *Client) fail(q Question, cur, server string, rcode int, kind error, reason string, err error) error {
	// The server stays out of the reason, so that a verdict explained
	// live reads the same when replayed from a recording.
	if cur != q.Name {
		reason += " for " + cur
	}
	return &Error{Name: q.Name, Type: q.Type, Rcode: rcode, Reason: reason, Kind: kind, Err: err, Server: server}
}

// ask makes one exchange with one server: UDP, then TCP when the reply is
// truncated or larger than the buffer advertised, all within one deadline
// of the Client's Timeout. Each round trip is charged to the budget of the
// question, if it has one (Memo).
func (c *Client) ask(ctx context.Context, q Question, cur, server string, edns bool) (*dns.Msg, error) {
	req := new(dns.Msg)
	req.SetQuestion(cur, q.Type) // sets RD: we ask recursive servers
	size := uint16(dns.MinMsgSize)
	if edns {
		size = c.udpSize()
		req.SetEdns0(size, false)
	}
	actx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	if err := spend(ctx); err != nil {
		return nil, err
	}
	m, err := c.udp(actx, req, server, size)
	network := "udp"
	if err == nil && m.Truncated || errors.Is(err, errOversized) {
		if err := spend(ctx); err != nil {
			return nil, err
		}
		network = "tcp"
		m, err = c.tcp(actx, req, server)
	}
	if err != nil {
		var de *dns.Error
		switch {
		case ctx.Err() != nil:
			return nil, contextError(q, ctx.Err())
		case actx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded):
			return nil, c.fail(q, cur, server, -1, ErrTemporary, "timeout over "+network, nil)
		case errors.Is(err, errMismatch):
			// RFC 5452 §9.1: a reply that does not match is discarded, as
			// if none came (it may be forged): temporary, asked again.
			return nil, c.fail(q, cur, server, -1, ErrTemporary, "mismatched answer over "+network, err)
		case errors.As(err, &de):
			// A TCP reply that is not a DNS message: the stream is broken,
			// which says nothing lasting about the name. Ask again.
			return nil, c.fail(q, cur, server, -1, ErrTemporary, "malformed answer over "+network, err)
		default:
			return nil, c.fail(q, cur, server, -1, ErrTemporary, "network error over "+network, err)
		}
	}
	return m, nil
}

var (
	// errOversized: a UDP reply larger than the buffer advertised, without
	// TC. It is asked again over TCP rather than trusted: a datagram that
	// large was likely fragmented on the way, and fragments can be forged.
	errOversized = errors.New("resolver: UDP reply larger than advertised")
	errMismatch  = errors.New("resolver: reply does not match the question")
)

// udp sends req to a server over UDP and returns the first datagram that
// is a reply to it (RFC 5452 §9.1): datagrams that do not parse, or that
// do not match the question (ID, name, type, class), are ignored and the
// read goes on until ctx ends, so that junk aimed at our port cannot end
// the question. The connected socket already drops datagrams from other
// addresses.
func (c *Client) udp(ctx context.Context, req *dns.Msg, server string, size uint16) (*dns.Msg, error) {
	wire, err := req.Pack()
	if err != nil {
		return nil, err
	}
	conn, done, err := dial(ctx, "udp", server)
	if err != nil {
		return nil, err
	}
	defer done()
	if _, err := conn.Write(wire); err != nil {
		return nil, err
	}
	// One octet more than advertised: a larger datagram fills it (the
	// kernel drops the rest) and so shows as oversized.
	buf := make([]byte, int(size)+1)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return nil, err // the deadline, or the port unreachable
		}
		if n > int(size) {
			// Only a header that answers our ID sends us to TCP; an
			// off-path forger does not know the ID.
			if n >= 12 && buf[2]&0x80 != 0 && uint16(buf[0])<<8|uint16(buf[1]) == req.Id {
				return nil, errOversized
			}
			continue
		}
		m := new(dns.Msg)
		if err := m.Unpack(buf[:n]); err != nil {
			continue
		}
		if matches(req, m) != nil {
			continue
		}
		return m, nil
	}
}

// dial connects to server over network, the connection bound by ctx: its
// deadline, and its cancellation, which closes the connection to end a
// read at once. done releases both.
func dial(ctx context.Context, network, server string) (conn net.Conn, done func(), err error) {
	var d net.Dialer
	conn, err = d.DialContext(ctx, network, server)
	if err != nil {
		return nil, nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	return conn, func() { stop(); conn.Close() }, nil
}

// tcp makes the exchange over TCP (RFC 7766): one connection, one
// question, one reply.
func (c *Client) tcp(ctx context.Context, req *dns.Msg, server string) (*dns.Msg, error) {
	conn, done, err := dial(ctx, "tcp", server)
	if err != nil {
		return nil, err
	}
	defer done()
	co := &dns.Conn{Conn: conn}
	if err := co.WriteMsg(req); err != nil {
		return nil, err
	}
	m, err := co.ReadMsg()
	if err != nil {
		return nil, err
	}
	if err := matches(req, m); err != nil {
		return nil, fmt.Errorf("%w: %w", errMismatch, err)
	}
	return m, nil
}

// matches checks that m answers req (RFC 5452 §9.1: ID, question name,
// type and class). An error reply may leave the question out.
func matches(req, m *dns.Msg) error {
	if !m.Response || m.Id != req.Id {
		return errors.New("not a reply to the question")
	}
	if len(m.Question) == 0 && m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeNameError {
		return nil
	}
	if len(m.Question) != 1 {
		return fmt.Errorf("%d questions in reply", len(m.Question))
	}
	rq, qq := m.Question[0], req.Question[0]
	if !strings.EqualFold(rq.Name, qq.Name) || rq.Qtype != qq.Qtype || rq.Qclass != qq.Qclass {
		return fmt.Errorf("reply to %s %s", rq.Name, TypeString(rq.Qtype))
	}
	return nil
}
