package execution

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// SFN is the part of the Step Functions API that following an execution takes (an
// *sfn.Client): start it, read its history and that of the Map's child executions, and
// describe it until it ends.
type SFN interface {
	StartExecution(context.Context, *sfn.StartExecutionInput, ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	DescribeExecution(context.Context, *sfn.DescribeExecutionInput, ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
	GetExecutionHistory(context.Context, *sfn.GetExecutionHistoryInput, ...func(*sfn.Options)) (*sfn.GetExecutionHistoryOutput, error)
	ListExecutions(context.Context, *sfn.ListExecutionsInput, ...func(*sfn.Options)) (*sfn.ListExecutionsOutput, error)
}

// DeployedConfig is one execution of the deployed state machine.
type DeployedConfig struct {
	Client          SFN
	StateMachineARN string
	// Name is the execution's name (ExecutionName makes a readable one).
	Name    string
	Input   []byte
	Tracker *Tracker
	// Poll is the time between two looks at the execution. Default 5s.
	Poll time.Duration
	// Started, if set, is told the execution's ARN as soon as it exists.
	Started func(arn string)
}

// ExecutionName is a readable, unique name for an execution: what it reindexes and when,
// in the characters Step Functions allows (at most 80).
func ExecutionName(what string, now time.Time) string {
	w := regexp.MustCompile(`[^a-zA-Z0-9_-]+`).ReplaceAllString(what, "_")
	w = strings.Trim(w, "_-")
	if len(w) > 50 {
		w = w[:50]
	}
	return fmt.Sprintf("reindex-%s-%s", w, now.UTC().Format("20060102T150405Z"))
}

// RunDeployed starts the execution and follows it to its end, feeding the Tracker from the
// Task events of the execution and of each index's child execution. If ctx ends first, it
// stops following and returns ctx's error: the execution goes on in AWS (stopping it would
// skip its rollbacks).
func RunDeployed(ctx context.Context, cfg DeployedConfig) (Outcome, error) {
	if cfg.Poll <= 0 {
		cfg.Poll = 5 * time.Second
	}
	if cfg.Tracker == nil {
		cfg.Tracker = NewTracker()
	}
	start, err := cfg.Client.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(cfg.StateMachineARN), Name: aws.String(cfg.Name), Input: aws.String(string(cfg.Input)),
	})
	if err != nil {
		return Outcome{}, fmt.Errorf("start execution of %s: %w", cfg.StateMachineARN, err)
	}
	arn := aws.ToString(start.ExecutionArn)
	if cfg.Started != nil {
		cfg.Started(arn)
	}
	f := &follower{c: cfg.Client, tr: cfg.Tracker, parent: &history{arn: arn}, children: map[string]*history{}}
	for {
		desc, err := cfg.Client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err != nil {
			return Outcome{}, fmt.Errorf("describe %s: %w", arn, err)
		}
		// Read after describing: an execution seen ended has all its events written.
		if err := f.read(ctx); err != nil {
			return Outcome{}, err
		}
		if desc.Status != types.ExecutionStatusRunning && desc.Status != types.ExecutionStatusPendingRedrive {
			o := Outcome{Status: string(desc.Status), Error: aws.ToString(desc.Error), Cause: aws.ToString(desc.Cause)}
			if desc.Output != nil {
				o.Output = []byte(*desc.Output)
			}
			return o, nil
		}
		select {
		case <-ctx.Done():
			return Outcome{}, fmt.Errorf("stopped following %s (it goes on in AWS): %w", arn, ctx.Err())
		case <-time.After(cfg.Poll):
		}
	}
}

// history is how far one execution's events have been read.
type history struct {
	arn       string
	next      *string // the page token to go on from
	lastID    int64
	scheduled map[int64]string // TaskScheduled event id → its parameters (the payload)
	lastTask  string           // the latest scheduled payload
	done      bool
}

type follower struct {
	c        SFN
	tr       *Tracker
	parent   *history
	mapRuns  []string
	children map[string]*history
}

func (f *follower) read(ctx context.Context) error {
	if err := f.readHistory(ctx, f.parent); err != nil {
		return err
	}
	for _, mr := range f.mapRuns {
		var token *string
		for {
			out, err := f.c.ListExecutions(ctx, &sfn.ListExecutionsInput{MapRunArn: aws.String(mr), NextToken: token})
			if err != nil {
				return fmt.Errorf("list the child executions of %s: %w", mr, err)
			}
			for _, ex := range out.Executions {
				a := aws.ToString(ex.ExecutionArn)
				h := f.children[a]
				if h == nil {
					h = &history{arn: a}
					f.children[a] = h
				}
				if h.done {
					continue
				}
				if err := f.readHistory(ctx, h); err != nil {
					return err
				}
				h.done = ex.Status != types.ExecutionStatusRunning
			}
			if token = out.NextToken; token == nil {
				break
			}
		}
	}
	return nil
}

// readHistory reads the events after the last one read, in order, and hands each Task's
// payload and result to the Tracker.
func (f *follower) readHistory(ctx context.Context, h *history) error {
	if h.scheduled == nil {
		h.scheduled = map[int64]string{}
	}
	for {
		out, err := f.c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{
			ExecutionArn: aws.String(h.arn), NextToken: h.next, IncludeExecutionData: aws.Bool(true),
		})
		if err != nil {
			return fmt.Errorf("history of %s: %w", h.arn, err)
		}
		for _, ev := range out.Events {
			if ev.Id <= h.lastID {
				continue
			}
			h.lastID = ev.Id
			f.event(h, ev)
		}
		if out.NextToken == nil {
			// Keep the last token's position: the next read asks again from the start and
			// skips what it has (a history only grows).
			h.next = nil
			return nil
		}
		h.next = out.NextToken
	}
}

func (f *follower) event(h *history, ev types.HistoryEvent) {
	switch {
	case ev.TaskScheduledEventDetails != nil:
		p := aws.ToString(ev.TaskScheduledEventDetails.Parameters)
		h.scheduled[ev.Id], h.lastTask = p, p
	case ev.TaskSucceededEventDetails != nil:
		f.tr.Saw([]byte(h.lastTask), []byte(aws.ToString(ev.TaskSucceededEventDetails.Output)), "")
	case ev.TaskFailedEventDetails != nil:
		f.tr.Saw([]byte(h.lastTask), nil, aws.ToString(ev.TaskFailedEventDetails.Error))
	case ev.TaskTimedOutEventDetails != nil:
		f.tr.Saw([]byte(h.lastTask), nil, "States.Timeout")
	case ev.MapRunStartedEventDetails != nil:
		f.mapRuns = append(f.mapRuns, aws.ToString(ev.MapRunStartedEventDetails.MapRunArn))
	}
}
