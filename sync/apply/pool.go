package apply

import "sync"

// forEach calls fn for every index below n, on at most limit goroutines at once.
func forEach(n, limit int, fn func(i int)) {
	if limit > n {
		limit = n
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range limit {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}
