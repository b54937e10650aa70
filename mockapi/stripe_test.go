package mockapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/connectkit/connector/mockapi"
)

// walkCustomers pages GET /v1/customers with starting_after from the top
// to has_more=false, with the extra query q, and returns what it served.
func walkCustomers(srv *mockapi.Server, q url.Values) ([]mockapi.Customer, error) {
	var all []mockapi.Customer
	after := ""
	for range maxPages {
		var p mockapi.CustomerList
		if _, err := fetchJSON(srv.Client(), srv.URL+mockapi.PathCustomers+"?"+with(q, "starting_after", after).Encode(), &p); err != nil {
			return all, err
		}
		if p.Object != "list" || p.URL != mockapi.PathCustomers {
			return all, fmt.Errorf("list object %q, url %q", p.Object, p.URL)
		}
		all = append(all, p.Data...)
		if !p.HasMore {
			return all, nil
		}
		if len(p.Data) == 0 {
			return all, fmt.Errorf("has_more with no data")
		}
		after = p.Data[len(p.Data)-1].ID
	}
	return all, errNoEnd
}

func mustWalkCustomers(t *testing.T, srv *mockapi.Server, q url.Values) []mockapi.Customer {
	t.Helper()
	all, err := walkCustomers(srv, q)
	if err != nil {
		t.Fatal(err)
	}
	return all
}

func TestCustomersWalk(t *testing.T) {
	srv := start(t, mockapi.Options{Customers: 53, TiesPerTimestamp: 4})
	st := srv.Stripe()
	srv.Advance(time.Minute)
	st.Update(st.CustomerAt(3).ID)
	st.Delete(st.CustomerAt(7).ID)
	st.Insert()
	srv.Advance(time.Second)
	st.Update(st.CustomerAt(10).ID)
	want := st.Listing()
	if len(want) != 54 || !want[1].Deleted && !want[2].Deleted {
		t.Fatalf("Listing() = %d customers, want 54 with the tombstone near the top", len(want))
	}
	for _, limit := range []string{"1", "3", "10", "100"} {
		t.Run("limit="+limit, func(t *testing.T) {
			got := mustWalkCustomers(t, srv, url.Values{"limit": {limit}})
			if diff := cmp.Diff(want, got, equateEmpty); diff != "" {
				t.Errorf("walk (-Listing() +walk):\n%s", diff)
			}
		})
	}
	// Newest first by (updated, id): ties by id, descending.
	for i := 1; i < len(want); i++ {
		a, b := want[i-1], want[i]
		if a.Updated < b.Updated || (a.Updated == b.Updated && a.ID <= b.ID) {
			t.Errorf("listing not newest first at %d: %s@%d then %s@%d", i, a.ID, a.Updated, b.ID, b.Updated)
		}
	}
	// Customers() and Deleted() split the listing.
	var live []mockapi.Customer
	var dead []string
	for _, c := range want {
		if c.Deleted {
			dead = append(dead, c.ID)
		} else {
			live = append(live, c)
		}
	}
	if diff := cmp.Diff(live, st.Customers(), equateEmpty); diff != "" {
		t.Errorf("Customers() (-listing's live customers +got):\n%s", diff)
	}
	if diff := cmp.Diff(dead, st.Deleted()); diff != "" || st.Len() != 53 {
		t.Errorf("Deleted() (-want +got):\n%s; Len() = %d, want 53", diff, st.Len())
	}
}

// ending_before pages towards the newest, from any customer.
func TestCustomersEndingBefore(t *testing.T) {
	srv := start(t, mockapi.Options{Customers: 30})
	want := srv.Stripe().Listing()
	var got []mockapi.Customer
	before := want[len(want)-1].ID // the oldest
	for range maxPages {
		var p mockapi.CustomerList
		getJSON(t, srv.Client(), srv.URL+mockapi.PathCustomers+"?limit=7&ending_before="+before, &p)
		got = append(p.Data, got...) // each page is newest first, and newer than the last
		if !p.HasMore {
			break
		}
		before = p.Data[0].ID
	}
	if diff := cmp.Diff(want[:len(want)-1], got, equateEmpty); diff != "" {
		t.Errorf("ending_before walk from the oldest (-want +got):\n%s", diff)
	}
}

func TestCustomersUpdatedFilters(t *testing.T) {
	srv := start(t, mockapi.Options{Customers: 40, TiesPerTimestamp: 3})
	all := srv.Stripe().Listing()
	mid := all[20].Updated // a tie group of 3
	where := func(keep func(u int64) bool) []mockapi.Customer {
		var out []mockapi.Customer
		for _, c := range all {
			if keep(c.Updated) {
				out = append(out, c)
			}
		}
		return out
	}
	m := strconv.FormatInt(mid, 10)
	for _, tt := range []struct {
		q    url.Values
		want []mockapi.Customer
	}{
		{url.Values{"updated[gte]": {m}}, where(func(u int64) bool { return u >= mid })},
		{url.Values{"updated[gt]": {m}}, where(func(u int64) bool { return u > mid })},
		{url.Values{"updated[lte]": {m}}, where(func(u int64) bool { return u <= mid })},
		{url.Values{"updated[lt]": {m}}, where(func(u int64) bool { return u < mid })},
		{url.Values{"updated[gte]": {m}, "updated[lte]": {m}}, where(func(u int64) bool { return u == mid })},
		{url.Values{"updated[gt]": {m}, "updated[lt]": {m}}, nil},
		{url.Values{"updated[gte]": {m}, "updated[gt]": {strconv.FormatInt(mid-5, 10)}}, where(func(u int64) bool { return u >= mid })},
	} {
		got := mustWalkCustomers(t, srv, with(tt.q, "limit", "4"))
		if diff := cmp.Diff(tt.want, got, equateEmpty); diff != "" {
			t.Errorf("walk with %s (-want +got):\n%s", tt.q.Encode(), diff)
		}
	}
}

// Newest first, a change moves a customer to the top: a walk started
// before the change does not see it again, and a walk from the top down
// to the first walk's newest customer finds every change since, the
// deletion included: what an incremental sync needs.
func TestCustomersChangeDuringWalk(t *testing.T) {
	srv := start(t, mockapi.Options{Customers: 40})
	st := srv.Stripe()
	before := st.Listing()
	c := srv.Client()
	var first mockapi.CustomerList
	getJSON(t, c, srv.URL+mockapi.PathCustomers+"?limit=10", &first)
	mark := first.Data[0]

	srv.Advance(time.Second)
	updSeen, _ := st.Update(before[2].ID)   // already served
	updAhead, _ := st.Update(before[25].ID) // not served yet: leaves the rest of the walk
	st.Delete(before[30].ID)                // likewise, as a tombstone at the top
	ins := st.Insert()                      // at the top
	cursor := first.Data[len(first.Data)-1] // the walk goes on after before[9]
	var rest []mockapi.Customer
	for after := cursor.ID; ; {
		var p mockapi.CustomerList
		getJSON(t, c, srv.URL+mockapi.PathCustomers+"?limit=10&starting_after="+after, &p)
		rest = append(rest, p.Data...)
		if !p.HasMore {
			break
		}
		after = p.Data[len(p.Data)-1].ID
	}
	var wantRest []mockapi.Customer
	for _, x := range before[10:] {
		if x.ID != before[25].ID && x.ID != before[30].ID {
			wantRest = append(wantRest, x)
		}
	}
	if diff := cmp.Diff(wantRest, rest, equateEmpty); diff != "" {
		t.Errorf("rest of the walk (-want +got):\n%s", diff)
	}

	// The next sync reads from the top until it reaches its mark.
	var changes []mockapi.Customer
	for _, x := range mustWalkCustomers(t, srv, url.Values{"limit": {"2"}}) {
		if x.Updated < mark.Updated || (x.Updated == mark.Updated && x.ID <= mark.ID) {
			break
		}
		changes = append(changes, x)
	}
	ids := func(cs []mockapi.Customer) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.ID)
		}
		slices.Sort(out)
		return out
	}
	want := ids([]mockapi.Customer{updSeen, updAhead, ins, {ID: before[30].ID}})
	if diff := cmp.Diff(want, ids(changes)); diff != "" {
		t.Errorf("changes above the mark (-want +got):\n%s", diff)
	}
	for _, x := range changes {
		if x.ID == before[30].ID && (!x.Deleted || x.Updated != srv.Now().Unix() || x.Email != "") {
			t.Errorf("tombstone = %+v, want deleted, updated %d, no other field", x, srv.Now().Unix())
		}
	}
}

func TestCustomersTombstoneJSON(t *testing.T) {
	srv := start(t, mockapi.Options{Customers: 5})
	st := srv.Stripe()
	srv.Advance(time.Hour)
	id := st.CustomerAt(2).ID
	if !st.Delete(id) {
		t.Fatalf("Delete(%s) = false", id)
	}
	_, body := get(t, srv.Client(), srv.URL+mockapi.PathCustomers+"?limit=1")
	want := fmt.Sprintf(`{"object":"list","data":[{"id":"%s","object":"customer","deleted":true,"updated":%d}],"has_more":true,"url":"/v1/customers"}`+"\n", id, srv.Now().Unix())
	if string(body) != want {
		t.Errorf("body = %s\nwant %s", body, want)
	}
	for _, bad := range []string{id, "cus_nope", ""} {
		if _, ok := st.Update(bad); ok {
			t.Errorf("Update(%q) = _, true, want false", bad)
		}
		if st.Delete(bad) {
			t.Errorf("Delete(%q) = true, want false", bad)
		}
		if _, ok := st.Customer(bad); ok {
			t.Errorf("Customer(%q) = _, true, want false", bad)
		}
	}
	// A deleted customer still marks a place in the listing.
	var p mockapi.CustomerList
	getJSON(t, srv.Client(), srv.URL+mockapi.PathCustomers+"?starting_after="+id, &p)
	if len(p.Data) != 4 || p.HasMore {
		t.Errorf("starting_after the tombstone: %d customers, has_more %v; want 4, false", len(p.Data), p.HasMore)
	}
}

func TestCustomersConcurrentMutation(t *testing.T) {
	srv := start(t, mockapi.Options{Customers: 200})
	st := srv.Stripe()
	stop := make(chan struct{})
	var mutators, readers sync.WaitGroup
	mutators.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Microsecond):
			}
			id := st.CustomerAt((i * 13) % 200).ID
			switch i % 4 {
			case 0:
				st.Update(id)
			case 1:
				st.Insert()
			case 2:
				st.Delete(id)
			case 3:
				srv.Advance(time.Second)
			}
		}
	})
	for range 2 {
		readers.Go(func() {
			for range 3 {
				// Each page is newest first. Between pages the listing may
				// jump back up: a cursor customer changed since its page
				// resolves to its new place at the top.
				after := ""
				for pages := 0; ; pages++ {
					var p mockapi.CustomerList
					if _, err := fetchJSON(srv.Client(), srv.URL+mockapi.PathCustomers+"?limit=17&starting_after="+after, &p); err != nil {
						t.Errorf("walk under mutation: %v", err)
						return
					}
					for i := 1; i < len(p.Data); i++ {
						a, b := p.Data[i-1], p.Data[i]
						if a.Updated < b.Updated || (a.Updated == b.Updated && a.ID <= b.ID) {
							t.Errorf("page under mutation not newest first at %d: %s@%d then %s@%d", i, a.ID, a.Updated, b.ID, b.Updated)
							return
						}
					}
					if !p.HasMore || pages > maxPages {
						break
					}
					after = p.Data[len(p.Data)-1].ID
				}
			}
		})
	}
	readers.Wait()
	close(stop)
	mutators.Wait()
	if diff := cmp.Diff(st.Listing(), mustWalkCustomers(t, srv, url.Values{"limit": {"100"}}), equateEmpty); diff != "" {
		t.Errorf("walk after mutation (-Listing() +walk):\n%s", diff)
	}
}

func TestCustomersBadRequests(t *testing.T) {
	srv := start(t, mockapi.Options{Customers: 10})
	id := srv.Stripe().CustomerAt(1).ID
	tests := []struct {
		query, param, code string
	}{
		{"limit=0", "limit", ""},
		{"limit=101", "limit", ""},
		{"limit=x", "limit", ""},
		{"limit=-1", "limit", ""},
		{"starting_after=" + id + "&ending_before=" + id, "ending_before", ""},
		{"starting_after=cus_nope", "starting_after", "resource_missing"},
		{"ending_before=cus_00000000000000", "ending_before", "resource_missing"},
		{"created[gte]=5", "created[gte]", ""},
		{"expand[]=data.default_source", "expand[]", ""},
		{"updated[gte]=yesterday", "updated[gte]", ""},
		{"updated[lt]=1e9", "updated[lt]", ""},
		{"updated[lte]=99999999999999999999", "updated[lte]", ""},
	}
	for _, tt := range tests {
		resp, body := get(t, srv.Client(), srv.URL+mockapi.PathCustomers+"?"+tt.query)
		var e mockapi.StripeError
		err := json.Unmarshal(body, &e)
		if resp.StatusCode != http.StatusBadRequest || err != nil || e.Error.Type != "invalid_request_error" ||
			e.Error.Param != tt.param || e.Error.Code != tt.code || e.Error.Message == "" {
			t.Errorf("GET ?%s = %d %s, want 400 invalid_request_error, param %q, code %q", tt.query, resp.StatusCode, body, tt.param, tt.code)
		}
	}
	resp, body := get(t, srv.Client(), srv.URL+"/v1/charges")
	var e mockapi.StripeError
	if err := json.Unmarshal(body, &e); resp.StatusCode != http.StatusNotFound || err != nil || e.Error.Message == "" {
		t.Errorf("GET /v1/charges = %d %s, want 404 with a Stripe error", resp.StatusCode, body)
	}
}

func TestCustomersFaults(t *testing.T) {
	t.Run("errors in Stripe's shape", func(t *testing.T) {
		for _, tt := range []struct {
			faults     mockapi.Faults
			status     int
			typ, code  string
			retryAfter bool
		}{
			{mockapi.Faults{ErrorRate: 1}, http.StatusInternalServerError, "api_error", "", false},
			{mockapi.Faults{RateLimitRate: 1}, http.StatusTooManyRequests, "invalid_request_error", "rate_limit", true},
			{mockapi.Faults{RateLimitRate: 1, RetryAfterDate: true}, http.StatusTooManyRequests, "invalid_request_error", "rate_limit", true},
		} {
			t.Run(fmt.Sprint(tt.status, tt.faults.RetryAfterDate), func(t *testing.T) {
				srv := start(t, mockapi.Options{Customers: 10, Faults: tt.faults})
				resp, body := get(t, srv.Client(), srv.URL+mockapi.PathCustomers)
				var e mockapi.StripeError
				err := json.Unmarshal(body, &e)
				if resp.StatusCode != tt.status || err != nil || e.Error.Type != tt.typ || e.Error.Code != tt.code ||
					(resp.Header.Get("Retry-After") != "") != tt.retryAfter {
					t.Errorf("faults %+v = %d %s, Retry-After %q; want %d %s/%s", tt.faults, resp.StatusCode, body, resp.Header.Get("Retry-After"), tt.status, tt.typ, tt.code)
				}
			})
		}
	})
	t.Run("missing fields", func(t *testing.T) {
		srv := start(t, mockapi.Options{Customers: 100, Faults: mockapi.Faults{MissingFieldRate: 0.5}})
		var raw struct{ Data []map[string]any }
		getJSON(t, srv.Client(), srv.URL+mockapi.PathCustomers+"?limit=100", &raw)
		stripped := 0
		for _, c := range raw.Data {
			_, hasEmail := c["email"]
			_, hasUpdated := c["updated"]
			if hasEmail != hasUpdated {
				t.Fatalf("customer %v: email present %v, updated present %v; want both or neither", c["id"], hasEmail, hasUpdated)
			}
			if !hasEmail {
				stripped++
			}
		}
		if stripped < 25 || stripped > 75 {
			t.Errorf("%d of 100 customers without email and updated, want about half", stripped)
		}
	})
	for _, faults := range []mockapi.Faults{{RepeatLastPage: true}, {SelfLinkLastPage: true}} {
		t.Run(fmt.Sprintf("last page again %+v", faults), func(t *testing.T) {
			srv := start(t, mockapi.Options{Customers: 10, Faults: faults})
			all := srv.Stripe().Listing()
			var last, again mockapi.CustomerList
			getJSON(t, srv.Client(), srv.URL+mockapi.PathCustomers+"?limit=4&starting_after="+all[5].ID, &last)
			getJSON(t, srv.Client(), srv.URL+mockapi.PathCustomers+"?limit=4&starting_after="+all[9].ID, &again)
			if diff := cmp.Diff(all[6:], last.Data); diff != "" || !last.HasMore {
				t.Errorf("oldest page: has_more %v, want true; (-want +got):\n%s", last.HasMore, diff)
			}
			if diff := cmp.Diff(all[6:], again.Data); diff != "" || !again.HasMore {
				t.Errorf("after the oldest: has_more %v, want true; (-the oldest page +got):\n%s", again.HasMore, diff)
			}
			after := ""
			for range 20 { // a walk never ends
				var p mockapi.CustomerList
				getJSON(t, srv.Client(), srv.URL+mockapi.PathCustomers+"?limit=4&starting_after="+after, &p)
				if !p.HasMore || len(p.Data) == 0 {
					t.Fatalf("walk ended")
				}
				after = p.Data[len(p.Data)-1].ID
			}
		})
	}
	t.Run("quota headers", func(t *testing.T) {
		srv := start(t, mockapi.Options{Customers: 10, Faults: mockapi.Faults{RateLimitQuota: 1}})
		resp, _ := get(t, srv.Client(), srv.URL+mockapi.PathCustomers)
		over, body := get(t, srv.Client(), srv.URL+mockapi.PathCustomers)
		var e mockapi.StripeError
		if resp.StatusCode != http.StatusOK || resp.Header.Get("X-RateLimit-Remaining") != "0" ||
			over.StatusCode != http.StatusForbidden || json.Unmarshal(body, &e) != nil || e.Error.Message == "" {
			t.Errorf("quota 1: %d (remaining %q) then %d %s; want 200 (0) then 403 with a Stripe error",
				resp.StatusCode, resp.Header.Get("X-RateLimit-Remaining"), over.StatusCode, body)
		}
	})
}

func TestCustomersData(t *testing.T) {
	srv := mockapi.NewUnstartedServer(mockapi.Options{Customers: 50, Seed: 3})
	st := srv.Stripe()
	seen := map[string]bool{}
	for i := range 50 {
		c := st.CustomerAt(i)
		if !strings.HasPrefix(c.ID, "cus_") || len(c.ID) != 18 || seen[c.ID] || c.Object != "customer" ||
			c.Name == "" || !strings.Contains(c.Email, "@") || c.Created > c.Updated || c.Address.Line1 == "" ||
			c.Metadata["tier"] == "" || len(c.InvoicePrefix) != 8 || c.TaxExempt == "" || c.Deleted {
			t.Errorf("CustomerAt(%d) = %+v, want a complete, distinct customer", i, c)
		}
		seen[c.ID] = true
		if got, ok := st.Customer(c.ID); !ok || !cmp.Equal(c, got, equateEmpty) {
			t.Errorf("Customer(%s) = %+v, %v; want CustomerAt(%d)", c.ID, got, ok, i)
		}
	}
	if c := st.CustomerAt(50); c.ID != "" {
		t.Errorf("CustomerAt(50) = %+v, want the zero Customer", c)
	}
	if c := mockapi.NewUnstartedServer(mockapi.Options{Customers: 50, Seed: 4}).Stripe().CustomerAt(0); seen[c.ID] {
		t.Errorf("seeds 3 and 4 share the id %s", c.ID)
	}
	// Customers come last-changed a step before the clock starts, in
	// whole seconds, so that every change sorts after them.
	if top := st.Listing()[0]; top.Updated >= srv.Now().Unix() || top.Updated != srv.Now().Unix()-1 {
		t.Errorf("newest base customer updated %d, want one second before the clock (%d)", top.Updated, srv.Now().Unix())
	}
	if st.Len() != 50 || len(mockapi.NewUnstartedServer(mockapi.Options{Customers: -1}).Stripe().Listing()) != 0 {
		t.Errorf("Len() = %d, want 50; Customers -1 should serve none", st.Len())
	}
}
