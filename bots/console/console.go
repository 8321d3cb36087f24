// Package console is the terminal frontend: a chat on stdin/stdout that
// speaks the Telegram command language, writing finished videos to a folder.
package console

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"sorabot/bots/chat"
	"sorabot/core"
)

// Platform is the console's Origin.Platform and user id prefix.
const Platform = "console"

// Options configure a Console.
type Options struct {
	In  io.Reader
	Out io.Writer
	// User is the console user's name; its id is "console:<User>".
	User string
	// OutDir receives finished videos as <job>.mp4 (default "out").
	OutDir string
	// Provider is shown in /start ("demo", "sorapro", ...).
	Provider string
	// Interval is the least time between two progress lines of a job (2 s).
	Interval time.Duration
}

// Console is a core.Frontend and the loop that reads commands.
type Console struct {
	svc      *core.Service
	opt      Options
	user     string
	throttle *chat.Throttle

	mu      sync.Mutex
	changed chan struct{} // a job of this console's user ended
}

var _ core.Frontend = (*Console)(nil)

// New returns a console for svc; register it with
// svc.SetFrontend(Platform, c) before svc.Start.
func New(svc *core.Service, opt Options) *Console {
	if opt.OutDir == "" {
		opt.OutDir = "out"
	}
	if opt.User == "" {
		opt.User = "local"
	}
	if opt.Interval <= 0 {
		opt.Interval = 2 * time.Second
	}
	return &Console{svc: svc, opt: opt, user: Platform + ":" + opt.User,
		throttle: chat.NewThrottle(opt.Interval), changed: make(chan struct{}, 1)}
}

func (c *Console) say(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.opt.Out, format, args...)
	if !strings.HasSuffix(format, "\n") {
		fmt.Fprintln(c.opt.Out)
	}
}

func (c *Console) interactive() bool {
	f, ok := c.opt.In.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Run reads commands until the input ends (then waits for this console's
// unfinished jobs) or ctx is canceled (jobs then resume at the next start).
func (c *Console) Run(ctx context.Context) error {
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(c.opt.In)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	prompt := c.interactive()
	c.say("Type /help for commands, /video <prompt> to make a video. Videos go to %s/.", c.opt.OutDir)
	for {
		if prompt {
			c.mu.Lock()
			fmt.Fprint(c.opt.Out, "> ")
			c.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			c.say("Bye. Unfinished jobs resume at the next start.")
			return nil
		case line, ok := <-lines:
			if !ok {
				return c.drain(ctx)
			}
			if isBareStoryboard(line) {
				// Shots follow one per line, up to an empty line.
				c.say("One shot per line, like \"5s A city at dusk\"; an empty line ends the storyboard.")
				var shots []string
				for more := true; more; {
					select {
					case <-ctx.Done():
						return nil
					case l, ok := <-lines:
						if !ok || strings.TrimSpace(l) == "" {
							more = false
							if !ok {
								lines = nil
							}
							break
						}
						shots = append(shots, l)
					}
				}
				line = strings.TrimSpace(line) + "\n" + strings.Join(shots, "\n")
			}
			c.handle(ctx, line)
			if lines == nil {
				return c.drain(ctx)
			}
		}
	}
}

// isBareStoryboard reports a /storyboard line without shots on it.
func isBareStoryboard(line string) bool {
	f := strings.Fields(line)
	if len(f) == 0 || !strings.HasPrefix(strings.ToLower(f[0]), "/storyboard") {
		return false
	}
	for _, w := range f[1:] {
		if !strings.HasPrefix(w, "--") && !strings.HasPrefix(w, "—") {
			return false
		}
	}
	return true
}

// drain waits until the console user has no unfinished job (this session's
// or ones recovered from an earlier run).
func (c *Console) drain(ctx context.Context) error {
	said := -1
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		a, _, err := c.svc.Balance(ctx, c.user, 0)
		if err != nil {
			return err
		}
		if a.Active == 0 {
			return nil
		}
		if a.Active != said {
			c.say("Waiting for %d job(s) to finish… (Ctrl-C to quit; unfinished jobs resume at the next start)", a.Active)
			said = a.Active
		}
		select {
		case <-ctx.Done():
			return nil
		case <-c.changed:
		case <-tick.C:
		}
	}
}

// ended wakes drain.
func (c *Console) ended() {
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

// imageFlag takes the console-only --image=PATH words out of a command.
func imageFlags(line string) (string, []string) {
	var paths, keep []string
	for _, w := range strings.Split(line, " ") {
		if p, ok := strings.CutPrefix(w, "--image="); ok && p != "" {
			paths = append(paths, p)
			continue
		}
		keep = append(keep, w)
	}
	return strings.Join(keep, " "), paths
}

// handle answers one command line; what a command does and answers is
// chat.Commands', the console only adds its --image=FILE and video folder.
func (c *Console) handle(ctx context.Context, line string) {
	line = strings.TrimSpace(line)
	if line == "" {
		return
	}
	line, paths := imageFlags(line)
	cmd, err := chat.Parse(line)
	if err != nil {
		c.say("%s", chat.ErrorText(err))
		return
	}
	if cmd.Name == "" {
		c.say("%s", chat.PlainText())
		return
	}
	if chat.Lookup(cmd.Name).Request {
		c.submit(ctx, cmd.Request, paths)
		return
	}
	r := chat.NewCommands(c.svc).Run(ctx, chat.Call{User: c.user, Syntax: chat.Typed, Command: cmd})
	if cmd.Name == chat.CmdHelp && r.Err == nil {
		r.Text += fmt.Sprintf("\n\nIn this console, --image=FILE attaches a picture (repeat it for several), and videos are written to %s/.", c.opt.OutDir)
	}
	c.say("%s", r.Text)
	if j := r.Resend; j != nil && j.VideoPath != "" {
		dst, err := c.save(j, j.VideoPath)
		if err != nil {
			c.say("⚠️ The video of job #%s could not be written: %v", j.ID, err)
			return
		}
		c.say("🎞 %s", dst)
	}
}

// submit reads the pictures and accepts the request.
func (c *Console) submit(ctx context.Context, req core.Request, paths []string) {
	for _, p := range paths {
		b, err := readImage(p)
		if err != nil {
			c.say("%s", chat.ErrorText(err))
			return
		}
		req.Images = append(req.Images, core.Image{Data: b})
	}
	_, r := chat.NewCommands(c.svc).Submit(ctx, core.Submission{UserID: c.user,
		Origin: core.Origin{Platform: Platform, ChatID: c.user}, Request: req})
	c.say("%s", r.Text)
}

func readImage(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, core.Errorf(core.EINVALID, "Cannot read image %s.", path)
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, core.MaxImageBytes+1))
}

// Notify prints a progress line (at most one per Interval per job) and
// every final state.
func (c *Console) Notify(ctx context.Context, ev core.Event) {
	if ev.Job.UserID != c.user {
		return
	}
	switch ev.Type {
	case core.EventQueued, core.EventCanceled:
		// Caused by this console's /video or /cancel, whose answer said so.
	case core.EventDelivered:
		c.say("✅ Job #%s done: %s", ev.Job.ID, filepath.Join(c.opt.OutDir, ev.Job.ID+".mp4"))
	case core.EventFailed:
		c.say("%s", chat.Status(ev))
	default:
		if text, ok := c.throttle.Update(c.user, ev, time.Now()); ok {
			c.say("%s", text)
		}
	}
	if chat.Final(ev) {
		c.ended()
	}
}

// MaxUpload: a terminal takes any size.
func (c *Console) MaxUpload(*core.Job) int64 { return 1 << 62 }

// Deliver writes the video to OutDir/<job>.mp4, or prints the link.
func (c *Console) Deliver(ctx context.Context, j *core.Job, v core.Video) (string, error) {
	if v.Path == "" {
		c.say("🔗 Job #%s is too big to keep here: %s", j.ID, v.URL)
		return "link", nil
	}
	if _, err := c.save(j, v.Path); err != nil {
		return "", core.Temporary(err)
	}
	return "file", nil
}

// save copies a video to OutDir/<job>.mp4.
func (c *Console) save(j *core.Job, src string) (string, error) {
	dst := filepath.Join(c.opt.OutDir, j.ID+".mp4")
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	return dst, WriteFile(dst, in)
}

// WriteFile writes r to dst (mode 0644) through a temporary file and a
// rename, so a crash never leaves half a video under the final name.
func WriteFile(dst string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".part-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}
