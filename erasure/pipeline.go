package erasure

import (
	"context"
	"sync"
)

// stage functions of an ordered pipeline over jobs of type J.
type stages[J any] struct {
	// newJob allocates a job; at most window jobs exist at once.
	newJob func() *J
	// next fills j with the next unit of work, in order, on one goroutine.
	// It returns false when there is none left.
	next func(ctx context.Context, j *J) (bool, error)
	// work processes j. It runs on up to workers goroutines at once.
	work func(ctx context.Context, j *J) error
	// emit consumes j on the calling goroutine, in the order of next.
	emit func(ctx context.Context, j *J) error
}

type pipeItem[J any] struct {
	job  *J
	done chan error
}

// runOrdered runs next → work (in parallel) → emit (in order) with at most
// window jobs alive, so memory stays bounded whatever the input length. It
// returns the first error in the order of the jobs (or the error of next,
// or the context's), after every goroutine it started has returned.
func runOrdered[J any](parent context.Context, workers, window int, s stages[J]) error {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)

	free := make(chan *J, window)
	for range window {
		free <- s.newJob()
	}
	order := make(chan *pipeItem[J], window)
	todo := make(chan *pipeItem[J])

	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // producer
		defer wg.Done()
		defer close(order)
		defer close(todo)
		for {
			var j *J
			select {
			case j = <-free:
			case <-ctx.Done():
				return
			}
			if ctx.Err() != nil {
				return
			}
			ok, err := s.next(ctx, j)
			if err != nil {
				cancel(err)
				return
			}
			if !ok {
				return
			}
			it := &pipeItem[J]{job: j, done: make(chan error, 1)}
			order <- it // never blocks: at most window items exist
			select {
			case todo <- it:
			case <-ctx.Done():
				it.done <- context.Cause(ctx)
				return
			}
		}
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range todo {
				if ctx.Err() != nil {
					it.done <- context.Cause(ctx)
					continue
				}
				it.done <- s.work(ctx, it.job)
			}
		}()
	}

	for it := range order {
		err := <-it.done
		if err == nil && ctx.Err() == nil {
			err = s.emit(ctx, it.job)
		}
		if err != nil {
			cancel(err) // the first cause wins
		}
		free <- it.job // never blocks: the job came from free
	}
	wg.Wait()
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return nil
}
