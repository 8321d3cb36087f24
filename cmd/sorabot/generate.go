package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"sorabot/bots/console"
	"sorabot/core"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// generate makes one video from the command line and exits.
func (m *Main) generate(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	var images multiFlag
	prompt := fs.String("prompt", "", "what the video shows (required)")
	fs.Var(&images, "image", "an image to animate (PNG, JPEG or WebP); repeat for several")
	model := fs.String("model", "", "catalog model id (default: chosen from the request)")
	out := fs.String("o", "", "output file (default out/<job>.mp4)")
	orientation := fs.String("orientation", "", "portrait or landscape")
	duration := fs.Int("duration", 0, "seconds (default per model)")
	quality := fs.String("quality", "", "quality, e.g. hd")
	pro := fs.Bool("pro", false, "use the pro tier")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := LoadConfig(m.getenv, nil)
	if err != nil {
		return err
	}
	req := core.Request{Model: *model, Prompt: *prompt, Orientation: *orientation, Duration: *duration, Quality: *quality, Pro: *pro}
	for _, p := range images {
		b, err := readImage(p)
		if err != nil {
			return err
		}
		req.Images = append(req.Images, core.Image{Data: b})
	}
	a, err := newApp(cfg, newLogger(m.Stderr, cfg.LogLevel, levelWarn))
	if err != nil {
		return err
	}
	defer a.close()
	f := &cliFrontend{done: make(chan error, 1), out: *out, dir: cfg.OutDir}
	a.svc.SetFrontend("cli", f)
	if err := a.start(ctx); err != nil {
		return err
	}
	user := "console:" + consoleUser(m.getenv)
	acc, err := a.svc.Accept(ctx, core.Submission{UserID: user, Origin: core.Origin{Platform: "cli"}, Request: req})
	if err != nil {
		return errors.New(core.ErrorMessage(err))
	}
	for _, n := range acc.Job.Notes {
		fmt.Fprintln(m.Stderr, n)
	}
	fmt.Fprintf(m.Stderr, "job %s accepted: %d credits, balance %d\n", acc.Job.ID, acc.Job.Price, acc.Balance)
	select {
	case <-ctx.Done():
		return fmt.Errorf("interrupted; job %s resumes at the next start", acc.Job.ID)
	case err := <-f.done:
		if err != nil {
			return err
		}
		fmt.Fprintln(m.Stdout, f.written)
		return nil
	}
}

func readImage(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--image: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, core.MaxImageBytes+1))
	if err != nil {
		return nil, fmt.Errorf("--image: %w", err)
	}
	return b, nil
}

func consoleUser(getenv func(string) string) string {
	if u := getenv("USER"); u != "" {
		return u
	}
	return "local"
}

// cliFrontend writes the one video of `sorabot generate` to a file.
type cliFrontend struct {
	out     string
	dir     string
	written string
	done    chan error
}

func (f *cliFrontend) Notify(ctx context.Context, ev core.Event) {
	if ev.Type == core.EventFailed {
		select {
		case f.done <- errors.New(ev.Job.Err):
		default:
		}
	}
}

func (f *cliFrontend) MaxUpload(*core.Job) int64 { return 1 << 62 }

func (f *cliFrontend) Deliver(ctx context.Context, j *core.Job, v core.Video) (string, error) {
	dst := f.out
	if dst == "" {
		dst = filepath.Join(f.dir, j.ID+".mp4")
	}
	if v.Path == "" {
		if err := fetch(ctx, v.URL, dst); err != nil {
			return "", err
		}
	} else if err := copyFile(v.Path, dst); err != nil {
		return "", err
	}
	f.written = dst
	select {
	case f.done <- nil:
	default:
	}
	return "file", nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return console.WriteFile(dst, in)
}

func fetch(ctx context.Context, url, dst string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return core.Temporary(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("download: HTTP %d", resp.StatusCode)
	}
	return console.WriteFile(dst, resp.Body)
}
