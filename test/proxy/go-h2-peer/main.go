// A Go net/http peer for test/proxy/h2-go-interop.test.ts: an h2c server (Go's strict
// HTTP/2 checks) and an h2c client (dynamic table, Huffman, CONTINUATION for a 20 kB
// header, request and response trailers, bodies up to 800 kB both ways, N concurrent
// streams), to check the proxy's HTTP/2 relay against an implementation that is not
// node's. Test code only: weft itself is TypeScript.
//
//	go-h2-peer server PORTFILE   serve on a free port, written to PORTFILE
//	go-h2-peer client PORT N     N concurrent requests to 127.0.0.1:PORT; prints the failures
package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	switch os.Args[1] {
	case "server":
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		os.WriteFile(os.Args[2], []byte(strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)), 0o644)
		var p http.Protocols
		p.SetUnencryptedHTTP2(true)
		srv := &http.Server{Protocols: &p, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := sha256.New()
			n, _ := io.Copy(h, r.Body)
			w.Header().Set("Trailer", "X-Body-Sha")
			for k, v := range r.Header {
				if strings.HasPrefix(k, "X-Echo-") {
					w.Header()["X-Got-"+k[7:]] = v
				}
			}
			size, _ := strconv.Atoi(r.URL.Query().Get("size"))
			w.Header().Set("X-Req-Bytes", strconv.FormatInt(n, 10))
			w.Header().Set("X-Req-Sha", fmt.Sprintf("%x", h.Sum(nil)))
			w.Header().Set("X-Trailer-In", r.Trailer.Get("X-In-Trailer"))
			w.WriteHeader(200)
			w.Write(bytes.Repeat([]byte("z"), size))
			w.Header().Set("X-Body-Sha", "done")
		})}
		srv.Serve(ln)
	case "client":
		port := os.Args[2]
		n, _ := strconv.Atoi(os.Args[3])
		var p http.Protocols
		p.SetUnencryptedHTTP2(true)
		c := &http.Client{Timeout: 8 * time.Second, Transport: &http.Transport{Protocols: &p}}
		var wg sync.WaitGroup
		var mu sync.Mutex
		fails := 0
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				body := bytes.Repeat([]byte{byte('a' + i%26)}, 100000*(i%7))
				want := fmt.Sprintf("%x", sha256.Sum256(body))
				req, _ := http.NewRequest("POST", "http://app.test/x?size="+strconv.Itoa(200000*(i%5)), io.NopCloser(bytes.NewReader(body)))
				req.URL.Host = "127.0.0.1:" + port
				req.Host = "app.test"
				req.ContentLength = -1
				if os.Getenv("TRAILER") != "0" {
					req.Trailer = http.Header{"X-In-Trailer": nil}
				}
				for j := 0; j < 40; j++ {
					req.Header.Set(fmt.Sprintf("X-Echo-H%d", j), strings.Repeat("v", j*10)+strconv.Itoa(i))
				}
				if os.Getenv("BIG") != "0" {
					req.Header.Set("X-Echo-Big", strings.Repeat("B", 20000))
				}
				if req.Trailer != nil {
					req.Trailer.Set("X-In-Trailer", "t"+strconv.Itoa(i))
				}
				res, err := c.Do(req)
				bad := ""
				if err != nil {
					bad = err.Error()
				} else {
					got, _ := io.ReadAll(res.Body)
					res.Body.Close()
					if res.Header.Get("X-Req-Sha") != want {
						bad = "request body sha mismatch " + res.Header.Get("X-Req-Bytes")
					} else if len(got) != 200000*(i%5) {
						bad = "response length " + strconv.Itoa(len(got))
					} else if res.Trailer.Get("X-Body-Sha") != "done" {
						bad = "no response trailer"
					} else if req.Trailer != nil && res.Header.Get("X-Trailer-In") != "t"+strconv.Itoa(i) {
						bad = "request trailer lost: " + res.Header.Get("X-Trailer-In")
					} else if os.Getenv("BIG") != "0" && len(res.Header.Get("X-Got-Big")) != 20000 {
						bad = "big header lost"
					} else {
						for j := 0; j < 40; j++ {
							if res.Header.Get(fmt.Sprintf("X-Got-H%d", j)) != strings.Repeat("v", j*10)+strconv.Itoa(i) {
								bad = "echo header mismatch"
							}
						}
					}
				}
				if bad != "" {
					mu.Lock()
					fails++
					if fails < 5 {
						fmt.Println("FAIL", i, bad)
					}
					mu.Unlock()
				}
			}(i)
		}
		wg.Wait()
		fmt.Printf("go client: %d requests, %d failures\n", n, fails)
	}
}
