// Command revproxy is what a Go developer would write to put a proxy in
// front of an app: httputil.ReverseProxy with the default Transport, no
// tuning. bench/relay.sh measures `jasni listen` against it.
package main

import (
	"flag"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8081", "address to listen on")
	target := flag.String("target", "http://127.0.0.1:8080", "the app")
	flag.Parse()
	u, err := url.Parse(*target)
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe(*listen, httputil.NewSingleHostReverseProxy(u)))
}
