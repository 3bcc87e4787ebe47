// Command cosigcheck opens a policy-ledger cosigned checkpoint with Go's
// golang.org/x/mod/sumdb/note, an implementation of signed notes independent
// of ours. The ledger's signature is checked by note.NewVerifier; each
// witness's cosignature/v1 line by the note.Verifier below, written from the
// C2SP tlog-cosignature text (key id over 0x04, an 8-byte big-endian time
// before the Ed25519 signature, which covers "cosignature/v1\ntime <T>\n"
// followed by the checkpoint body).
//
// Usage: cosigcheck -log <ledger verifier key> -witness <witness key> [-witness …] NOTE
// Prints one line per verified signature ("ledger NAME" or "witness NAME TIME")
// and exits 0; exits 1 naming the problem when the note does not verify.
package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

const cosignatureType = 0x04

type cosigner struct {
	name string
	hash uint32
	key  ed25519.PublicKey
	// times[i] is the timestamp of the i-th signature that verified.
	times []uint64
}

func (c *cosigner) Name() string    { return c.name }
func (c *cosigner) KeyHash() uint32 { return c.hash }

func (c *cosigner) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig[:8])
	if t > 1<<63-1 {
		return false
	}
	signed := append([]byte("cosignature/v1\ntime "+strconv.FormatUint(t, 10)+"\n"), msg...)
	if !ed25519.Verify(c.key, signed, sig[8:]) {
		return false
	}
	c.times = append(c.times, t)
	return true
}

func newCosigner(vkey string) (*cosigner, error) {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		return nil, errors.New("witness key is not name+hash+key")
	}
	name, hexHash, encoded := parts[0], parts[1], parts[2]
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil || len(raw) != 1+ed25519.PublicKeySize || raw[0] != cosignatureType {
		return nil, errors.New("witness key is not type 0x04 with a 32-byte Ed25519 key")
	}
	h := sha256.New()
	h.Write([]byte(name + "\n"))
	h.Write(raw)
	hash := binary.BigEndian.Uint32(h.Sum(nil)[:4])
	if want, err := strconv.ParseUint(hexHash, 16, 32); err != nil || uint32(want) != hash {
		return nil, errors.New("witness key hash does not match its name and key")
	}
	return &cosigner{name: name, hash: hash, key: ed25519.PublicKey(raw[1:])}, nil
}

type keys []string

func (k *keys) String() string     { return strings.Join(*k, ",") }
func (k *keys) Set(v string) error { *k = append(*k, v); return nil }

func main() {
	logKey := flag.String("log", "", "the ledger's verifier key")
	var witnessKeys keys
	flag.Var(&witnessKeys, "witness", "a witness's key (repeatable)")
	flag.Parse()
	if flag.NArg() != 1 || *logKey == "" {
		fmt.Fprintln(os.Stderr, "usage: cosigcheck -log KEY -witness KEY NOTE")
		os.Exit(2)
	}
	msg, err := os.ReadFile(flag.Arg(0))
	if err != nil {
		fail(err)
	}
	logVerifier, err := note.NewVerifier(*logKey)
	if err != nil {
		fail(err)
	}
	verifiers := []note.Verifier{logVerifier}
	var cosigners []*cosigner
	for _, k := range witnessKeys {
		c, err := newCosigner(k)
		if err != nil {
			fail(err)
		}
		cosigners = append(cosigners, c)
		verifiers = append(verifiers, c)
	}
	n, err := note.Open(msg, note.VerifierList(verifiers...))
	if err != nil {
		fail(err)
	}
	ledgerSigned := false
	for _, s := range n.Sigs {
		if s.Name == logVerifier.Name() && s.Hash == logVerifier.KeyHash() {
			ledgerSigned = true
			fmt.Printf("ledger %s\n", s.Name)
		}
	}
	if !ledgerSigned {
		fail(errors.New("no signature by the ledger's key"))
	}
	for _, c := range cosigners {
		for _, t := range c.times {
			fmt.Printf("witness %s %d\n", c.name, t)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "cosigcheck:", err)
	os.Exit(1)
}
