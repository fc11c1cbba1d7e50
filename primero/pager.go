package primero

import (
	"context"
	"iter"
	"net/url"
	"strconv"
)

// pages fetches a paginated list page by page from page 1 (q with its
// "page" set in turn; per is the page size asked for) and yields each
// page's items, after calling onPage (when non-nil) with the page's
// Response. It stops after the last page (page·per reaches
// metadata.total, or a page is empty), after yielding an error once, or
// when the consumer stops.
func pages[T any](ctx context.Context, c *Client, path string, q url.Values, per int, onPage func(*Response)) iter.Seq2[[]T, error] {
	return pagesOf(ctx, q, per, onPage, func(ctx context.Context, q url.Values) ([]T, *Response, error) {
		return getPage[T](ctx, c, path, q)
	})
}

// pagesOf is pages with the fetch of one page given.
func pagesOf[T any](ctx context.Context, q url.Values, per int, onPage func(*Response),
	fetch func(context.Context, url.Values) ([]T, *Response, error)) iter.Seq2[[]T, error] {
	return func(yield func([]T, error) bool) {
		for page := 1; ; page++ {
			q.Set("page", strconv.Itoa(page))
			items, resp, err := fetch(ctx, q)
			if err != nil {
				yield(nil, err)
				return
			}
			if onPage != nil {
				onPage(resp)
			}
			if !yield(items, nil) {
				return
			}
			applied := resp.Per
			if applied <= 0 {
				applied = per
			}
			if len(items) == 0 || page*applied >= resp.Total {
				return
			}
		}
	}
}
