// Package resolvertest runs a resolver.Zone as a DNS server on the loopback
// interface, so that tests can exercise resolver.Client, resolver.System
// (through a *net.Resolver dialing it) and anything built on them over the
// real wire: UDP and TCP, truncation, rcodes, lost packets.
//
// The server answers as an authoritative server that also follows CNAMEs
// (RFC 1034 §3.6.2, §4.3.2): the alias chain and the records in the answer
// section, the SOA of the zone in the authority section of a negative
// answer (RFC 2308 §3) when the zone holds one, NXDOMAIN when the name does
// not exist. The zone's faults are honoured (servfail → SERVFAIL, timeout →
// no reply), and faults can be added per server (Servfail, Refused, Rcode,
// Drop, Truncate, Mismatch, Junk, Oversize, SetDelay). Queries are counted per question and
// per transport.
//
// It listens on 127.0.0.1 only and is for tests only.
package resolvertest

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mailtrust/mailtrust/resolver"
)

// Server is a DNS server on 127.0.0.1 answering from a resolver.Zone over
// UDP and TCP on the same ephemeral port. Its methods are safe for
// concurrent use, also while it serves.
type Server struct {
	zone *resolver.Zone
	addr string
	udp  *dns.Server
	tcp  *dns.Server
	stop chan struct{}

	mu       sync.Mutex
	rcodes   map[string]int
	drop     map[string]bool
	truncate map[string]bool
	mismatch map[string]bool
	junk     map[string]bool
	oversize map[string]bool
	lies     map[string]int
	inject   func(q resolver.Question, network string) Injection
	delay    time.Duration
	oneHop   bool
	noEDNS   bool
	counts   map[resolver.Question]int
	byNet    map[string]int
}

// Start starts a server answering from zone, stopped by t.Cleanup. The
// zone must not change while the server runs.
func Start(t testing.TB, zone *resolver.Zone) *Server {
	t.Helper()
	s := &Server{
		zone:     zone,
		stop:     make(chan struct{}),
		rcodes:   map[string]int{},
		drop:     map[string]bool{},
		truncate: map[string]bool{},
		mismatch: map[string]bool{},
		junk:     map[string]bool{},
		oversize: map[string]bool{},
		lies:     map[string]int{},
		counts:   map[resolver.Question]int{},
		byNet:    map[string]int{},
	}
	// UDP and TCP on one port: take an ephemeral UDP port and try for the
	// same TCP port, again with another if it is taken.
	var pc net.PacketConn
	var ln net.Listener
	for i := 0; ; i++ {
		var err error
		pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("resolvertest: listen udp: %v", err)
		}
		ln, err = net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			break
		}
		pc.Close()
		if i == 20 {
			t.Fatalf("resolvertest: listen tcp: %v", err)
		}
	}
	s.addr = pc.LocalAddr().String()
	s.udp = &dns.Server{PacketConn: pc, Handler: s}
	s.tcp = &dns.Server{Listener: ln, Handler: s}
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go srv.ActivateAndServe()
		<-started
	}
	t.Cleanup(func() {
		close(s.stop)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s.udp.ShutdownContext(ctx)
		s.tcp.ShutdownContext(ctx)
	})
	return s
}

// Addr is the server's "127.0.0.1:port", for UDP and TCP alike.
func (s *Server) Addr() string { return s.addr }

// Servfail makes the server answer every question at name with SERVFAIL.
func (s *Server) Servfail(name string) { s.Rcode(name, dns.RcodeServerFailure) }

// Refused makes the server answer every question at name with REFUSED.
func (s *Server) Refused(name string) { s.Rcode(name, dns.RcodeRefused) }

// Rcode makes the server answer every question at name with rcode and no
// records (dns.RcodeFormatError, dns.RcodeNotImplemented, ...).
func (s *Server) Rcode(name string, rcode int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rcodes[resolver.Fqdn(name)] = rcode
}

// Drop makes the server never answer questions at name, over either
// transport.
func (s *Server) Drop(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drop[resolver.Fqdn(name)] = true
}

// Truncate makes the server answer questions at name over UDP with the TC
// bit set and no records, so that clients ask again over TCP.
func (s *Server) Truncate(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.truncate[resolver.Fqdn(name)] = true
}

// Mismatch makes the server answer questions at name with a reply whose
// question section names another name (mismatch.test.), as a confused or
// spoofing server would.
func (s *Server) Mismatch(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mismatch[resolver.Fqdn(name)] = true
}

// JunkDatagrams are what Junk sends before the reply, in order, for a
// question with ID id and question q: a datagram that is no DNS message, a
// reply to the question with another ID (what an off-path forger, who
// does not know the ID, sends), and a reply with the right ID to another
// question. Each claims NXDOMAIN, so that a client taking one is seen to.
func JunkDatagrams(id uint16, q dns.Question) [][]byte {
	garbage := []byte{0x12, 0x34, 0xff}
	forged := new(dns.Msg)
	forged.Id = id + 1
	forged.Response = true
	forged.Rcode = dns.RcodeNameError
	forged.Question = []dns.Question{q}
	other := forged.Copy()
	other.Id = id
	other.Question = []dns.Question{{Name: "junk.test.", Qtype: q.Qtype, Qclass: q.Qclass}}
	var out [][]byte
	out = append(out, garbage)
	for _, m := range []*dns.Msg{forged, other} {
		b, err := m.Pack()
		if err != nil {
			panic(err) // fixed messages: cannot happen
		}
		out = append(out, b)
	}
	return out
}

// Junk makes the server send JunkDatagrams to the client's port before
// answering a question at name over UDP (before any delay, and also when
// the question is dropped), as an off-path attacker racing the reply does.
func (s *Server) Junk(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.junk[resolver.Fqdn(name)] = true
}

// Oversize makes the server answer questions at name over UDP in full,
// whatever the size the client advertised, and without setting TC.
func (s *Server) Oversize(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oversize[resolver.Fqdn(name)] = true
}

// Contradict makes the server answer questions at name from the zone, but
// with rcode: dns.RcodeNameError with the asked records in the answer
// section, as a broken or lying server would.
func (s *Server) Contradict(name string, rcode int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lies[resolver.Fqdn(name)] = rcode
}

// Injection is what Inject does to one question: any of its faults, in
// this order: junk datagrams first (UDP), a delay, then no reply, a
// SERVFAIL, or TC set and no records (UDP).
type Injection struct {
	Junk     bool
	Delay    time.Duration
	Drop     bool
	Servfail bool
	Truncate bool
}

// Inject makes the server ask f what to do with every question it
// receives, over each transport, on top of the faults set per name: for
// fault injection at random (the soak test). f is called concurrently.
func (s *Server) Inject(f func(q resolver.Question, network string) Injection) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inject = f
}

// SetDelay adds d of latency before every reply.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// StopAtCNAME makes the server answer with only the first alias of a CNAME
// chain, as an authoritative server does when the target lies in a zone it
// does not serve; clients must follow the chain themselves.
func (s *Server) StopAtCNAME(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oneHop = on
}

// NoEDNS makes the server behave as one that predates EDNS (RFC 6891 §7):
// a question with an OPT record gets FORMERR without one, and replies over
// UDP are limited to 512 octets.
func (s *Server) NoEDNS() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noEDNS = true
}

// Queries returns the number of questions (name, qtype) received, over
// both transports.
func (s *Server) Queries(name string, qtype uint16) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[resolver.Question{Name: resolver.Fqdn(name), Type: qtype}]
}

// Transport returns the number of questions received over network, "udp"
// or "tcp".
func (s *Server) Transport(network string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byNet[network]
}

// Total returns the number of questions received.
func (s *Server) Total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byNet["udp"] + s.byNet["tcp"]
}

// ServeDNS implements dns.Handler.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	network := w.LocalAddr().Network()
	if len(req.Question) != 1 || req.Response || req.Opcode != dns.OpcodeQuery {
		m := new(dns.Msg)
		m.SetRcode(req, dns.RcodeFormatError)
		w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	name := resolver.Fqdn(q.Name)

	s.mu.Lock()
	s.counts[resolver.Question{Name: name, Type: q.Qtype}]++
	s.byNet[network]++
	delay := s.delay
	rcode, forced := s.rcodes[name]
	drop := s.drop[name]
	truncate := s.truncate[name] && network == "udp"
	mismatch := s.mismatch[name]
	junk := s.junk[name] && network == "udp"
	oversize := s.oversize[name] && network == "udp"
	lie, lying := s.lies[name]
	oneHop := s.oneHop
	noEDNS := s.noEDNS
	inject := s.inject
	s.mu.Unlock()

	if inject != nil {
		inj := inject(resolver.Question{Name: name, Type: q.Qtype}, network)
		junk = junk || inj.Junk && network == "udp"
		delay += inj.Delay
		drop = drop || inj.Drop
		if inj.Servfail && !forced {
			rcode, forced = dns.RcodeServerFailure, true
		}
		truncate = truncate || inj.Truncate && network == "udp"
	}

	if junk {
		for _, b := range JunkDatagrams(req.Id, q) {
			w.Write(b)
		}
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-s.stop:
			return
		}
	}
	if drop {
		return
	}
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	m.RecursionAvailable = true
	edns := req.IsEdns0() != nil
	switch {
	case noEDNS && edns:
		m.Rcode = dns.RcodeFormatError
		edns = false
	case forced:
		m.Rcode = rcode
	case truncate:
		m.Truncated = true
	default:
		if !s.answer(m, q, oneHop) {
			return // the zone's timeout fault: no reply
		}
		if lying {
			m.Rcode = lie
		}
	}
	if mismatch {
		m.Question[0].Name = "mismatch.test."
	}
	if edns {
		m.SetEdns0(resolver.DefaultUDPSize, false)
	}
	if network == "udp" && !oversize {
		// RFC 1035 §4.2.1, RFC 6891 §6.2.5: fit the client's buffer or set
		// TC.
		size := dns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil && edns {
			size = max(size, int(opt.UDPSize()))
		}
		m.Truncate(size)
	}
	w.WriteMsg(m)
}

// answer fills m from the zone; false means the question must go
// unanswered.
func (s *Server) answer(m *dns.Msg, q dns.Question, oneHop bool) bool {
	ans, fault, err := s.zone.Resolve(q.Name, q.Qtype)
	switch {
	case err != nil:
		// A CNAME loop: give the chain, as servers do; an invalid name
		// has no chain and gets FORMERR.
		chain := s.chain(q.Name)
		if len(chain) == 0 {
			m.Rcode = dns.RcodeFormatError
		}
		if oneHop && len(chain) > 1 {
			chain = chain[:1]
		}
		m.Answer = chain
	case oneHop && len(ans.CNAMEs) > 0:
		// The first alias is ours to give; a fault further along the
		// chain is the other zone's, met when the client asks there.
		m.Answer = []dns.RR{ans.CNAMEs[0]}
	case fault == resolver.FaultServfail:
		m.Rcode = dns.RcodeServerFailure
	case fault == resolver.FaultTimeout:
		return false
	default:
		m.Rcode = ans.Rcode
		for _, c := range ans.CNAMEs {
			m.Answer = append(m.Answer, c)
		}
		m.Answer = append(m.Answer, ans.Records...)
		if ans.Empty() && ans.SOA != nil {
			m.Ns = []dns.RR{ans.SOA}
		}
	}
	return true
}

// chain returns the aliases from name until one repeats, at most 9.
func (s *Server) chain(name string) []dns.RR {
	var out []dns.RR
	seen := map[string]bool{}
	cur := resolver.Fqdn(name)
	for len(out) < 9 && !seen[cur] {
		seen[cur] = true
		ans, _, err := s.zone.Resolve(cur, dns.TypeCNAME)
		if err != nil || len(ans.Records) == 0 {
			break
		}
		c := ans.Records[0].(*dns.CNAME)
		out = append(out, c)
		cur = resolver.Fqdn(c.Target)
	}
	return out
}

// Client returns a resolver.Client asking srv only, with a short timeout
// (300ms) and one retry, so that a lost reply costs well under a second.
func Client(t testing.TB, srv *Server) *resolver.Client {
	t.Helper()
	return &resolver.Client{Servers: []string{srv.Addr()}, Timeout: 300 * time.Millisecond, Retries: 1}
}
