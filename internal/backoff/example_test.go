package backoff_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/p4fabric/fabric/internal/backoff"
)

func Example() {
	b := backoff.New(
		backoff.WithBase(10*time.Millisecond),
		backoff.WithMax(80*time.Millisecond),
		backoff.WithMultiplier(2),
		backoff.WithJitter(0), // deterministic output for the example
	)
	for range 5 {
		fmt.Println(b.Next())
	}
	b.Reset() // connected: start again from the base
	fmt.Println(b.Next())
	// Output:
	// 10ms
	// 20ms
	// 40ms
	// 80ms
	// 80ms
	// 10ms
}

// A reconnect loop: dial until it works or the context ends.
func ExampleBackoff_Wait() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()

	attempts := 0
	dial := func() error { // stands for a real dial that fails twice
		attempts++
		if attempts < 3 {
			return errors.New("connection refused")
		}
		return nil
	}

	b := backoff.New(backoff.WithBase(time.Millisecond), backoff.WithMax(5*time.Millisecond))
	for {
		err := dial()
		if err == nil {
			b.Reset()
			break
		}
		if werr := b.Wait(ctx); werr != nil {
			fmt.Println("giving up:", err)
			return
		}
	}
	fmt.Println("connected after", attempts, "attempts")
	// Output: connected after 3 attempts
}
