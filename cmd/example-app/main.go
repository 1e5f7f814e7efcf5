// Command example-app is a stand-in for your app: a webhook endpoint written
// from the Jasni docs' examples, listening on 127.0.0.1:3000/webhooks/jasni.
// It verifies each delivery's signature with WEBHOOK_SECRET (or --secret) and
// answers 200, or 401 for a bad signature.
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/jasni/jasni-cli/internal/exampleapp"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "address to listen on")
	secret := flag.String("secret", os.Getenv("WEBHOOK_SECRET"), "webhook secret (default $WEBHOOK_SECRET)")
	flag.Parse()
	if *secret == "" {
		fmt.Fprintln(os.Stderr, "example-app: no secret: pass --secret whsec_... or set WEBHOOK_SECRET")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "example-app: cannot listen on %s: %v (is another app using the port? pass --addr)\n", *addr, err)
		os.Exit(1)
	}
	app := exampleapp.New(*secret)
	app.Log = os.Stdout
	fmt.Printf("example-app listening on http://%s/webhooks/jasni\n", ln.Addr())
	srv := &http.Server{Handler: app.Handler(), ReadHeaderTimeout: 10 * time.Second}
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(os.Stderr, "example-app: %v\n", err)
		os.Exit(1)
	}
}
