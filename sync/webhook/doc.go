// Package webhook owns the receiver of git hosting push webhooks. A valid
// webhook only pokes the source poller: the payload, including its commit
// id, is never trusted or even parsed; the poller fetches and sees for
// itself what changed.
//
// Endpoints, one per provider, each served only when the provider has a
// secret (otherwise 404, as for an unknown provider):
//
//	POST /hooks/github   X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>
//	                     X-GitHub-Event: push or create trigger; ping answers 200
//	POST /hooks/gitlab   X-Gitlab-Token: <secret>
//	                     X-Gitlab-Event: "Push Hook" or "Tag Push Hook" trigger
//	POST /hooks/gitea    X-Gitea-Signature: <hex HMAC-SHA256(secret, body)>
//	                     X-Gitea-Event: push or create trigger
//	POST /hooks/generic  X-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>
//	                     any event triggers; for CI jobs and other hosts:
//
//	  sig=$(printf %s "$body" | openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1)
//	  curl -X POST -H "X-Signature-256: sha256=$sig" --data "$body" https://agent/hooks/generic
//
// Answers: 202 fetch scheduled; 200 valid but nothing to do (ping, other
// events); 400 event header missing; 401 signature or token missing or
// wrong; 404 unknown or unconfigured provider; 405 not POST; 413 body over
// the limit (1 MiB by default; read with a limit, never buffered: the
// signature is computed while streaming). Signatures are compared in
// constant time. Secrets never appear in answers, errors or metrics.
package webhook
