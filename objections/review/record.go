package review

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// Objections received by hand: a letter, an e-mail, a phone call or a
// word in person, recorded by a supervisor or an admin (access.PermObject:
// an objection only ever protects the person it names, so supervisors may
// record one; voiding stays with admins). It goes through the register as
// the API's POST /v1/objections does, with the same evidence: the
// hash-chained event log, the actor (the user's name), and an idempotency
// key, here one made for each form shown, so that a form sent twice is
// one objection. It takes effect when it is recorded: the objection's
// time of receipt is the server's clock, never the date on the letter,
// which is kept in the note with the sender's reference.

// channel is a way an objection reaches the org by hand, and the source
// it is recorded with.
type channel struct {
	Key    string
	Source objections.Source
}

var channels = []channel{
	{"letter", objections.SourceLetter},
	{"email", objections.SourceEmail},
	{"phone", objections.SourceCallbackLine},
	{"person", objections.SourceAgent},
}

func channelOf(key string) (channel, bool) {
	for _, c := range channels {
		if c.Key == key {
			return c, true
		}
	}
	return channel{}, false
}

// recordForm is the form as typed, so that it is shown back.
type recordForm struct {
	Number, Org, Channel, Received, Reference, Note, Person, Key string
}

type recordData struct {
	Form     recordForm
	Orgs     []objections.Org
	Channels []channel
	Today    string
	Error    string
}

// writableOrgs are the orgs a user of scope records objections for: its
// own orgs (not the advertisers it sees only as their agency).
func writableOrgs(scope access.Scope, orgs []objections.Org) []objections.Org {
	out := make([]objections.Org, 0, len(orgs))
	for _, o := range orgs {
		if scope.Has(o.ID) {
			out = append(out, o)
		}
	}
	return out
}

// newKey returns a fresh idempotency key for a form.
func newKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return "ui-" + base64.RawURLEncoding.EncodeToString(b[:])
}

func (s *Server) recordPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := recordForm{Number: strings.TrimSpace(q.Get("number")), Org: strings.ToLower(q.Get("org")), Channel: "letter",
		Received: today(s.cfg.Now()), Key: newKey()}
	s.renderRecord(w, r, http.StatusOK, f, "")
}

func (s *Server) renderRecord(w http.ResponseWriter, r *http.Request, status int, f recordForm, msg string) {
	orgs, err := s.reg.Store().Orgs(r.Context())
	if err != nil {
		s.fail(w, r, "list orgs", err)
		return
	}
	d := recordData{Form: f, Orgs: writableOrgs(viewerFrom(r.Context()).User.Orgs, orgs), Channels: channels,
		Today: today(s.cfg.Now()), Error: msg}
	if len(d.Orgs) == 1 {
		d.Form.Org = d.Orgs[0].ID
	}
	s.render(w, r, status, "record", s.newPage(r, "record.title", "objections", d))
}

func (s *Server) record(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v := viewerFrom(ctx)
	l := s.lexicon(r)
	f := recordForm{Number: strings.TrimSpace(r.PostFormValue("number")), Org: strings.ToLower(strings.TrimSpace(r.PostFormValue("org"))),
		Channel: r.PostFormValue("channel"), Received: strings.TrimSpace(r.PostFormValue("received")),
		Reference: strings.TrimSpace(r.PostFormValue("reference")), Note: strings.TrimSpace(r.PostFormValue("note")),
		Person: strings.TrimSpace(r.PostFormValue("person")), Key: r.PostFormValue("key")}
	orgs, err := s.reg.Store().Orgs(ctx)
	if err != nil {
		s.fail(w, r, "list orgs", err)
		return
	}
	var org *objections.Org
	for _, o := range writableOrgs(v.User.Orgs, orgs) {
		if o.ID == f.Org {
			org = &o
		}
	}
	ch, chOK := channelOf(f.Channel)
	received, dayOK := parseDay(f.Received)
	lastDay, _ := parseDay(today(s.cfg.Now()))
	var msg string
	switch {
	case f.Org == "" || org == nil:
		// An org the user may not write for is refused as one that is not
		// offered: the form lists only the user's own orgs.
		msg = l.T("record.needOrg")
	case !chOK:
		msg = l.T("record.needChannel")
	case f.Received == "" || !dayOK:
		msg = l.T("filter.badDate", f.Received)
	case received.After(lastDay):
		msg = l.T("record.future")
	case f.Number == "" && f.Person == "":
		msg = l.T("record.needNumber")
	case len(f.Key) < 10 || len(f.Key) > 64:
		msg = l.T("error.csrf")
	}
	if msg != "" {
		s.renderRecord(w, r, http.StatusUnprocessableEntity, f, msg)
		return
	}
	o := objections.Objection{Org: org.ID, RawNumber: f.Number, PersonID: f.Person, Source: ch.Source, Actor: v.User.Name,
		IdempotencyKey: f.Key, Note: manualNote(l, ch, f.Received, f.Reference, f.Note)}
	rec, created, err := s.reg.Record(ctx, o)
	if objections.ErrorCode(err) == objections.EINVALID {
		msg = l.T("record.invalid", objections.ErrorMessage(err))
		if e := (*objections.Error)(nil); errors.As(err, &e) && e.Field == "number" {
			msg = l.T("filter.badNumber", f.Number)
		}
		s.renderRecord(w, r, http.StatusUnprocessableEntity, f, msg)
		return
	}
	if err != nil {
		s.fail(w, r, "record objection", err)
		return
	}
	if !created && rec.IdempotencyKey == f.Key {
		n, _ := s.reg.Numbers().Normalize(f.Number)
		if rec.Number != n || rec.PersonID != f.Person {
			// The form was sent before for another number (the browser's
			// back button): the other objection stands; a fresh form.
			f.Key = newKey()
			s.renderRecord(w, r, http.StatusConflict, f, l.T("record.formUsed"))
			return
		}
	}
	mark := "recorded"
	switch {
	case created:
		if err := s.audit(r, v.User.Name, access.AuditObjection, rec.ID, auditKV("source", string(rec.Source), "reference", f.Reference),
			access.Scope{rec.Org}); err != nil {
			// The objection stands and its event names the user.
			s.log.Error("audit objection", zap.String("objection_id", rec.ID), zap.Error(err))
		}
	case rec.IdempotencyKey != f.Key:
		mark = "existing" // the org had an active objection on the number already
	}
	http.Redirect(w, r, "/ui/objections/"+url.PathEscape(rec.ID)+"?"+mark+"=1", http.StatusSeeOther)
}

// manualNote is the note kept with an objection received by hand: the
// date it was received, its channel and reference, then the user's note.
// It is written in the language of the user who records it, who writes
// the note in it too.
func manualNote(l lexicon, ch channel, received, reference, note string) string {
	head := l.T("record.noteHead", received, l.T("record.channel."+ch.Key))
	if reference != "" {
		head += l.T("record.noteRef", reference)
	}
	head += "."
	if note == "" {
		return head
	}
	return head + "\n" + note
}

// today is the date of t in Europe/Amsterdam.
func today(t time.Time) string { return t.In(objections.Amsterdam()).Format(dateLayout) }
