// Command memhog allocates and touches memory until the kernel stops it:
// a container running it with a memory limit is OOM-killed. The first
// argument is the chunk size in MiB (default 8).
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	chunk := 8
	if len(os.Args) > 1 {
		if n, err := strconv.Atoi(os.Args[1]); err == nil && n > 0 {
			chunk = n
		}
	}
	var held [][]byte
	for i := 1; ; i++ {
		b := make([]byte, chunk<<20)
		for j := 0; j < len(b); j += 4096 {
			b[j] = 1
		}
		held = append(held, b)
		fmt.Printf("holding %d MiB\n", i*chunk)
		time.Sleep(10 * time.Millisecond)
	}
}
