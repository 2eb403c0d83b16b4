// Command web is a tiny HTTP server for test and example images: it
// answers every path with the pod's hostname and the path, and /healthz
// with "ok". PORT sets the port (default 8080).
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	host, _ := os.Hostname()
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s\n", host, r.URL.Path)
	})
	log.Printf("web listening on :%s", port)
	if err := http.ListenAndServe(":"+port, mux); err != nil {
		log.Print(err)
		os.Exit(1)
	}
}
