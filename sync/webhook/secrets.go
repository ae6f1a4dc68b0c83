package webhook

import (
	"bytes"
	"fmt"
	"os"
)

// LoadSecrets reads each provider's secret from its file (as mounted from a
// Kubernetes Secret), trimming surrounding whitespace. Errors name the file,
// never its content.
func LoadSecrets(files map[Provider]string) (map[Provider][]byte, error) {
	secrets := make(map[Provider][]byte, len(files))
	for p, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("webhook %s secret: %w", p, err)
		}
		secret := bytes.TrimSpace(data)
		if len(secret) == 0 {
			return nil, fmt.Errorf("webhook %s secret: %s is empty; write the secret configured at the git host into it", p, path)
		}
		secrets[p] = secret
	}
	return secrets, nil
}
