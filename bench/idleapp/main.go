// Command idleapp is an app that closes kept-alive connections after 1 s
// idle (as many app servers do, often after a few seconds), answering 200 to
// everything. bench/relay.sh forwards to it through a proxy in bursts with
// pauses longer than that, to see whether the proxy ever sends a request on
// a connection the app is closing (and answers 502).
package main

import (
	"flag"
	"io"
	"log"
	"net/http"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8082", "address to listen on")
	idle := flag.Duration("idle", time.Second, "close kept-alive connections idle this long")
	flag.Parse()
	srv := &http.Server{
		Addr:        *listen,
		IdleTimeout: *idle,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusOK)
		}),
	}
	log.Fatal(srv.ListenAndServe())
}
