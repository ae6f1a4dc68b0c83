package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/gitops-agent/gitops-agent/sync/webhook"
)

type printTrigger struct{}

func (printTrigger) Trigger(reason string) { fmt.Println("trigger:", reason) }

// A CI job pokes the agent through the generic endpoint, signing the body
// with the shared secret.
func ExampleNew() {
	secret := []byte("shared-secret")
	h, err := webhook.New(printTrigger{}, webhook.Options{Secrets: map[webhook.Provider][]byte{webhook.Generic: secret}})
	if err != nil {
		fmt.Println(err)
		return
	}
	body := `{"pipeline":"release"}`
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(body))

	req := httptest.NewRequest("POST", "/hooks/generic", strings.NewReader(body))
	req.Header.Set("X-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))

	req = httptest.NewRequest("POST", "/hooks/generic", strings.NewReader(body))
	req.Header.Set("X-Signature-256", "sha256=00")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
	// Output:
	// trigger: webhook:generic
	// 202 fetch scheduled
	// 401 invalid X-Signature-256
}
