package browser

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/chromedp/chromedp"
)

// Each helper below bounds its wait with its own timeout, derived from ctx;
// selectors are CSS selectors, and a helper waits for the first element that
// matches to be visible before it reads or clicks it.

// Open loads url in the tab of ctx and waits up to timeout for the page to
// load.
func Open(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		return fmt.Errorf("open %s: %w", url, err)
	}
	return nil
}

// Click waits up to timeout for sel to be visible and clicks it.
func Click(ctx context.Context, sel string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)); err != nil {
		return fmt.Errorf("click %s: %w", sel, err)
	}
	return nil
}

// Text waits up to timeout for sel to be visible and returns its text as
// rendered (innerText).
func Text(ctx context.Context, sel string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		return "", fmt.Errorf("text of %s: %w", sel, err)
	}
	return s, nil
}

// WaitText reads the text of sel until ok accepts it, for up to timeout, and
// returns the text it accepted. On timeout the error quotes the last text
// read, so that a failed test says what the page showed instead.
func WaitText(ctx context.Context, sel string, timeout time.Duration, ok func(string) bool) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	last, lastErr := "", error(nil)
	for {
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
		if err == nil && ok(s) {
			return s, nil
		}
		if err == nil {
			last, lastErr = s, nil
		} else if ctx.Err() == nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return "", fmt.Errorf("wait for text of %s (%s): %w", sel, timeout, lastErr)
			}
			return "", fmt.Errorf("wait for text of %s (%s): still %q", sel, timeout, last)
		case <-tick.C:
		}
	}
}

// Attribute waits up to timeout for sel to be visible and returns the value
// of its attribute name; it fails when the element has no such attribute.
func Attribute(ctx context.Context, sel, name string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	a, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(sel), name, chromedp.NodeVisible))
	if err != nil {
		return "", fmt.Errorf("attribute %s of %s: %w", name, sel, err)
	}
	if !a.Exists {
		return "", fmt.Errorf("attribute %s of %s: no such attribute", name, sel)
	}
	return a.Value, nil
}

// Screenshot saves a PNG of the whole page in the tab of ctx (beyond the
// window when the page is longer) to path.
func Screenshot(ctx context.Context, path string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG, not JPEG
	if err != nil {
		return fmt.Errorf("screenshot %s: %w", path, err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return fmt.Errorf("screenshot %s: %w", path, err)
	}
	return nil
}
