package paginatetest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/connectkit/connector/internal/memsource"
	"github.com/connectkit/connector/paginate"
	"github.com/connectkit/connector/paginate/paginatetest"
)

func TestEveryStrategy(t *testing.T) {
	items := memsource.Ints(23)
	tests := []struct {
		name     string
		src      paginate.Source[int]
		strategy paginate.Strategy
	}{
		{"Offset", &memsource.Source[int]{Items: items, Kind: paginate.KindOffset}, paginate.Offset(5)},
		{"OffsetWithTotal", &memsource.Source[int]{Items: items, Kind: paginate.KindOffset, Total: true, HasMore: true}, paginate.Offset(5)},
		{"OffsetCapped", &memsource.Source[int]{Items: items, Kind: paginate.KindOffset, Cap: 3}, paginate.Offset(5)},
		{"PageNumberFrom1", &memsource.Source[int]{Items: items, Kind: paginate.KindPageNumber, First: 1, Total: true}, paginate.PageNumber(1, 5)},
		{"PageNumberFrom0", &memsource.Source[int]{Items: items, Kind: paginate.KindPageNumber, HasMore: true}, paginate.PageNumber(0, 5)},
		{"Token", &memsource.Source[int]{Items: items, Kind: paginate.KindToken}, paginate.Token().WithLimit(5)},
		{"TokenServerDefaultSize", &memsource.Source[int]{Items: items, Kind: paginate.KindToken, Default: 4}, paginate.Token()},
		{"Keyset", &memsource.Source[int]{Items: items, Kind: paginate.KindKeyset, Key: memsource.IntKey}, paginate.Keyset(5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			paginatetest.Run(t, tt.src, tt.strategy, items)
		})
	}
}

func TestEmptyCollection(t *testing.T) {
	paginatetest.Run(t, &memsource.Source[int]{Kind: paginate.KindOffset}, paginate.Offset(5), nil)
	paginatetest.Run(t, &memsource.Source[int]{Kind: paginate.KindKeyset, Key: memsource.IntKey}, paginate.Keyset(5), nil)
}

// The suite must catch a Source that breaks the contract.
func TestCatchesBrokenSources(t *testing.T) {
	items := memsource.Ints(9)
	good := &memsource.Source[int]{Items: items, Kind: paginate.KindOffset}
	tests := []struct {
		name string
		src  paginate.Source[int]
		want string
	}{
		{
			name: "ignores the start offset",
			src: paginate.SourceFunc[int](func(ctx context.Context, c paginate.Cursor) (paginate.Page[int], error) {
				if c.Offset > 0 && c.Offset < 3 {
					c.Offset = 0
				}
				return good.Fetch(ctx, c)
			}),
			want: "items mismatch",
		},
		{
			name: "serves more than the limit",
			src: paginate.SourceFunc[int](func(ctx context.Context, c paginate.Cursor) (paginate.Page[int], error) {
				c.Limit++
				return good.Fetch(ctx, c)
			}),
			want: "more than the limit",
		},
		{
			name: "swallows the context",
			src: paginate.SourceFunc[int](func(_ context.Context, c paginate.Cursor) (paginate.Page[int], error) {
				return good.Fetch(context.Background(), c)
			}),
			want: "", // the Paginator checks the context itself between pages
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := paginatetest.Check(tt.src, paginate.Offset(3), items, paginatetest.Options{})
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Check() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Check() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if err := paginatetest.Check[int](good, paginate.Offset(3), items, paginatetest.Options{}); err != nil {
		t.Errorf("Check(good source) = %v, want nil", err)
	}
}
