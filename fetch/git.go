package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	getter "github.com/hashicorp/go-getter/v2"

	"github.com/fnrun/fnrun/internal/toolcmd"
)

/*
gitGetter replaces go-getter's GitGetter.Get, which runs git with the
process environment (no way to add GIT_TERMINAL_PROMPT=0 without mutating
it), passes ?ref= to `git checkout` where it can become an option, and has
an update path that leaves deleted files behind. Detection stays go-getter's.

Here: clone with "--" before the URL into a directory that does not exist,
resolve the ref to a commit ourselves (tag, then branch, then commit), check
that commit out detached, update submodules, all with an environment that
never prompts.

Transports: git's own protocol policy applies (GIT_ALLOW_PROTOCOL is left
to the user). ext:: is refused outright (protocol.ext.allow=never), and the
submodules of a remote repository may not use the file transport or a
local path (protocol.file.allow=never): otherwise a repository could make
us clone any local repository into the checkout (CVE-2022-39253). Such a
submodule makes the fetch fail. Only when the repository itself is local
(file://) do its submodules get git's default policy.
*/

type gitGetter struct {
	env []string
}

var _ getter.Getter = (*gitGetter)(nil)

func (g *gitGetter) Detect(req *getter.Request) (bool, error) {
	return (&getter.GitGetter{}).Detect(req)
}

func (g *gitGetter) Mode(context.Context, *url.URL) (getter.Mode, error) {
	return getter.ModeDir, nil
}

func (g *gitGetter) GetFile(context.Context, *getter.Request) error {
	return errors.New("git: a repository is a directory, not a file")
}

func (g *gitGetter) Get(ctx context.Context, req *getter.Request) error {
	u := *req.URL()
	q := u.Query()
	ref := q.Get("ref")
	q.Del("ref")
	q.Del("depth")
	u.RawQuery = q.Encode()
	if strings.HasPrefix(ref, "-") {
		return fmt.Errorf("ref %q starts with '-'", ref)
	}
	if _, err := os.Lstat(req.Dst); err == nil {
		return fmt.Errorf("git: destination %s already exists", req.Dst)
	}
	if err := os.MkdirAll(filepath.Dir(req.Dst), 0o700); err != nil {
		return err
	}
	noExt := []string{"-c", "protocol.ext.allow=never"}
	if _, err := gitOutput(ctx, g.env, "", append(noExt, "clone", "--quiet", "--no-checkout", "--", u.String(), req.Dst)...); err != nil {
		return err
	}
	target := "HEAD"
	if ref != "" {
		commit, err := resolveRef(ctx, g.env, req.Dst, ref)
		if err != nil {
			return err
		}
		target = commit
	}
	if _, err := gitOutput(ctx, g.env, req.Dst, "-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", target); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(req.Dst, ".gitmodules")); err == nil {
		args := append([]string(nil), noExt...)
		if u.Scheme != "file" {
			args = append(args, "-c", "protocol.file.allow=never")
		}
		args = append(args, "submodule", "update", "--init", "--recursive", "--quiet")
		if _, err := gitOutput(ctx, g.env, req.Dst, args...); err != nil {
			return err
		}
	}
	// The clone remembers its remote: not with any credentials.
	c := u
	c.User = nil
	c.RawQuery = redactQuery(c.RawQuery)
	if _, err := gitOutput(ctx, g.env, req.Dst, "remote", "set-url", "origin", c.String()); err != nil {
		return err
	}
	return nil
}

// resolveRef returns the commit ref names in the fresh clone dir: a tag,
// a branch of origin, or a commit.
func resolveRef(ctx context.Context, env []string, dir, ref string) (string, error) {
	for _, name := range []string{"refs/tags/" + ref, "refs/remotes/origin/" + ref, ref} {
		out, err := gitOutput(ctx, env, dir, "rev-parse", "--verify", "--quiet", name+"^{commit}")
		if err == nil && out != "" {
			return out, nil
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
	}
	return "", fmt.Errorf("unknown ref %q", ref)
}

// gitError is a failed git command with its output.
type gitError struct {
	args   []string
	output string
	err    error
}

func (e *gitError) Error() string {
	msg := lastLine(e.output)
	if msg == "" {
		msg = e.err.Error()
	}
	return "git " + gitSubcommand(e.args) + ": " + msg
}

// gitSubcommand returns the subcommand of git args, after any -c options.
func gitSubcommand(args []string) string {
	for len(args) > 2 && args[0] == "-c" {
		args = args[2:]
	}
	return args[0]
}

func (e *gitError) Unwrap() error { return e.err }

// lastLine returns the most telling line of git's output: the last
// "fatal:" line if any, else the last non-empty line.
func lastLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], "fatal: ") {
			return strings.TrimPrefix(lines[i], "fatal: ")
		}
	}
	return strings.TrimSpace(lines[len(lines)-1])
}

// gitOutput runs git with env in dir and returns its trimmed stdout.
func gitOutput(ctx context.Context, env []string, dir string, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := toolcmd.Command(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", &gitError{args: args, output: strings.TrimSpace(stderr.String() + "\n" + stdout.String()), err: err}
	}
	return strings.TrimSpace(stdout.String()), nil
}

// gitEnv is the environment of git commands: the user's, never prompting.
// GIT_ALLOW_PROTOCOL is not set: it would override git's protocol.*.allow
// policy (see gitGetter).
func (f *Fetcher) gitEnv() []string {
	env := append([]string(nil), f.env...)
	return append(env, "GIT_TERMINAL_PROMPT=0", "GCM_INTERACTIVE=never")
}
