package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"io"
	"slices"
	"strings"
)

// verifier is how one provider proves a request and names its events.
type verifier struct {
	// header carries the signature or token.
	header string
	// verify reports whether proof is right for body and secret. It reads
	// body to the end; a read error (such as the size limit) is returned.
	verify func(secret []byte, proof string, body io.Reader) (bool, error)
	// eventHeader names the event; empty: every valid request triggers.
	eventHeader string
	triggers    []string
	ping        string
}

var verifiers = map[Provider]verifier{
	GitHub: {
		header:      "X-Hub-Signature-256",
		verify:      hmacSHA256("sha256="),
		eventHeader: "X-GitHub-Event",
		triggers:    []string{"push", "create"},
		ping:        "ping",
	},
	GitLab: {
		header:      "X-Gitlab-Token",
		verify:      sharedToken,
		eventHeader: "X-Gitlab-Event",
		triggers:    []string{"Push Hook", "Tag Push Hook"},
	},
	Gitea: {
		header:      "X-Gitea-Signature",
		verify:      hmacSHA256(""),
		eventHeader: "X-Gitea-Event",
		triggers:    []string{"push", "create"},
	},
	Generic: {
		header: "X-Signature-256",
		verify: hmacSHA256("sha256="),
	},
}

func knownProviders() string {
	names := make([]string, 0, len(verifiers))
	for p := range verifiers {
		names = append(names, string(p))
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// hmacSHA256 checks proof = prefix + hex(HMAC-SHA256(secret, body)),
// hashing the body as it streams in.
func hmacSHA256(prefix string) func([]byte, string, io.Reader) (bool, error) {
	return func(secret []byte, proof string, body io.Reader) (bool, error) {
		hexSig, ok := strings.CutPrefix(proof, prefix)
		if !ok {
			return false, nil
		}
		sig, err := hex.DecodeString(hexSig)
		if err != nil {
			return false, nil
		}
		mac := hmac.New(sha256.New, secret)
		if _, err := io.Copy(mac, body); err != nil {
			return false, err
		}
		return hmac.Equal(sig, mac.Sum(nil)), nil
	}
}

// sharedToken checks a token sent in clear (GitLab). Digests are compared so
// the comparison takes the same time whatever the token's length. The body
// is drained after the check so that an over-size body still answers 413.
func sharedToken(secret []byte, proof string, body io.Reader) (bool, error) {
	want, got := sha256.Sum256(secret), sha256.Sum256([]byte(proof))
	if subtle.ConstantTimeCompare(want[:], got[:]) != 1 {
		return false, nil
	}
	return true, drain(body)
}

// drain reads body to the end, so that a body over the limit is detected
// even when the proof needs no body.
func drain(body io.Reader) error {
	_, err := io.Copy(io.Discard, body)
	return err
}
