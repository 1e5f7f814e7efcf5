package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/jasni/jasni-cli/internal/api"
)

// An API of another shape (the 003 guide's, whose answers it does not
// show): the webhook at the top level or under data, a bare list, the key
// in a header of its own, PUT for updates. The client reads each where the
// contract says.
func TestOtherContracts(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []string
	)
	answers := map[string]string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path+" "+r.Header.Get("X-Api-Key")+" "+string(body))
		mu.Unlock()
		io.WriteString(w, answers[r.Method])
	}))
	defer srv.Close()
	contract := api.Contract{Path: "/v1/webhooks", Auth: "header:X-Api-Key", UpdateMethod: http.MethodPut,
		Object: []string{"data.webhook", "webhook", "data", ""}, List: []string{"data.webhooks", "webhooks", "data", ""}}
	hook := `{"id":"wh_abc123","url":"https://app.example.com/webhooks","events":["resource.created"],"active":true}`
	tests := []struct {
		name          string
		create, list  string
		update        string
		wantListCount int
	}{
		{"top level and a bare list", hook, "[" + hook + "]", hook, 1},
		{"under data", `{"data":` + hook + `}`, `{"data":[` + hook + `,` + hook + `]}`, `{"data":` + hook + `}`, 2},
		{"under webhook(s)", `{"webhook":` + hook + `}`, `{"webhooks":[]}`, `{"webhook":` + hook + `}`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			answers["POST"], answers["GET"], answers["PUT"], answers["DELETE"] = tt.create, tt.list, tt.update, ""
			c := api.New(srv.URL, "sk_test", srv.Client(), "test")
			c.Contract = contract
			ctx := context.Background()
			created, err := c.CreateWebhook(ctx, api.CreateParams{URL: "https://app.example.com/webhooks", Events: []string{"resource.created"}})
			if err != nil || created.ID != "wh_abc123" {
				t.Fatalf("create: %+v %v", created, err)
			}
			list, err := c.ListWebhooks(ctx)
			if err != nil || len(list) != tt.wantListCount {
				t.Fatalf("list: %+v %v", list, err)
			}
			if _, err := c.UpdateWebhook(ctx, "wh_abc123", api.UpdateParams{Events: []string{"resource.updated"}}); err != nil {
				t.Fatalf("update: %v", err)
			}
			if err := c.DeleteWebhook(ctx, "wh_abc123"); err != nil {
				t.Fatalf("delete: %v", err)
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	for _, s := range seen {
		if !strings.Contains(s, " /v1/webhooks") || !strings.Contains(s, " sk_test") {
			t.Errorf("request %q: want the contract's path and the key in X-Api-Key", s)
		}
	}
	var update map[string]any
	for _, s := range seen {
		if strings.HasPrefix(s, "PUT /v1/webhooks/wh_abc123 sk_test ") {
			json.Unmarshal([]byte(strings.TrimPrefix(s, "PUT /v1/webhooks/wh_abc123 sk_test ")), &update)
		}
	}
	if len(update) != 1 || update["events"] == nil {
		t.Errorf("update sent %v, want only the changed field", update)
	}
}

// An answer without the webhook where the contract says is an error that
// says where it looked.
func TestContractMissingObject(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"success":true,"data":{"other":{}}}`)
	}))
	defer srv.Close()
	c := api.New(srv.URL, "jsk_x", srv.Client(), "test")
	_, err := c.CreateWebhook(context.Background(), api.CreateParams{URL: "https://x.example.com", Events: []string{"a"}})
	if err == nil || !strings.Contains(err.Error(), "looked at data.webhook") {
		t.Errorf("err %v", err)
	}
}

// The guide documents requests, not answers: a create or an update
// answered with no webhook at all still ends well. The create shows the
// secret that was sent; the update reads the webhook back from the list.
func TestContractWithoutAnswers(t *testing.T) {
	hook := `{"id":"wh_abc123","url":"https://app.example.com/new","events":["resource.created"],"status":"active"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			io.WriteString(w, `[`+hook+`]`)
		case http.MethodPost:
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, "Created")
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer srv.Close()
	c := api.New(srv.URL, "token", srv.Client(), "test")
	c.Contract = api.Contract{Path: "/v1/webhooks", Auth: "bearer", Object: []string{""}, List: []string{""}}
	ctx := context.Background()
	created, err := c.CreateWebhook(ctx, api.CreateParams{URL: "https://app.example.com/h", Events: []string{"resource.created"}, Secret: "whsec_sent"})
	if err != nil || created.Secret != "whsec_sent" || created.ID != "" || created.URL != "https://app.example.com/h" {
		t.Errorf("create: %+v %v", created, err)
	}
	url := "https://app.example.com/new"
	updated, err := c.UpdateWebhook(ctx, "wh_abc123", api.UpdateParams{URL: &url})
	if err != nil || updated.URL != url || updated.Status != "active" || updated.Active != nil {
		t.Errorf("update: %+v %v", updated, err)
	}
	// Without a secret of the client's, a create must show the provider's:
	// an answer without it is an error.
	if _, err := c.CreateWebhook(ctx, api.CreateParams{URL: "https://app.example.com/h", Events: []string{"resource.created"}}); err == nil {
		t.Error("a create answered without the webhook or its secret passed")
	}
}
