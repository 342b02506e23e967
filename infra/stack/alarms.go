package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/logferry/logferry/infra/settings"
)

var fiveMinutes = awscdk.Duration_Minutes(jsii.Number(5))

// alarm is one CloudWatch alarm: metric above threshold in one five-minute period.
type alarm struct {
	id, what  string
	metric    awscloudwatch.IMetric
	threshold float64
	op        awscloudwatch.ComparisonOperator
}

// emf is one of the ingest function's Embedded Metric Format metrics.
func emf(s settings.Settings, in *Ingest, name, stat string) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String(s.MetricsNamespace),
		MetricName:    jsii.String(name),
		DimensionsMap: &map[string]*string{"FunctionName": in.Function.FunctionName()},
		Statistic:     jsii.String(stat),
		Period:        fiveMinutes,
	})
}

func sum() *awscloudwatch.MetricOptions {
	return &awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: fiveMinutes}
}

func maximum() *awscloudwatch.MetricOptions {
	return &awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: fiveMinutes}
}

// newAlarms adds every alarm (all to the one topic) and the dashboard.
func newAlarms(scope constructs.Construct, s settings.Settings, l *Logferry) {
	c := constructs.NewConstruct(scope, jsii.String("Alarms"))
	in := l.Ingest
	over, atLeast := awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD, awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD
	alarms := []alarm{
		{"IngestErrors", "ingest function errors", in.Function.MetricErrors(sum()), s.ErrorsThreshold, atLeast},
		{"IngestThrottles", "ingest function throttles", in.Function.MetricThrottles(sum()), s.ThrottlesThreshold, atLeast},
		{"DeadLetterQueueNotEmpty", "messages on the ingest dead-letter queue (objects that failed every receive)", in.DLQ.MetricApproximateNumberOfMessagesVisible(maximum()), 0, over},
		{"QueueOldestMessage", "age in seconds of the oldest message on the ingest queue", in.Queue.MetricApproximateAgeOfOldestMessage(maximum()), s.QueueAgeThresholdSec, atLeast},
		{"IngestLag", "LagSeconds: age of the newest line shipped", emf(s, in, "LagSeconds", "Maximum"), s.LagThresholdSec, atLeast},
		{"DeadLettered", "documents written to the dead-letter prefix", emf(s, in, "DeadLettered", "Sum"), 0, over},
		{"ObjectsRejected", "objects rejected as not logs or corrupt", emf(s, in, "ObjectsRejected", "Sum"), 0, over},
	}
	if s.MirrorURL != "" {
		alarms = append(alarms, alarm{"MirrorDeadLettered", "documents the mirror sink dead-lettered", emf(s, in, "MirrorDeadLettered", "Sum"), 0, over})
	}
	if r := l.Reindex; r != nil {
		alarms = append(alarms,
			alarm{"ReindexFailed", "reindex executions failed", r.StateMachine.MetricFailed(sum()), 0, over},
			alarm{"ReindexTimedOut", "reindex executions timed out", r.StateMachine.MetricTimedOut(sum()), 0, over},
			alarm{"ReindexAborted", "reindex executions aborted", r.StateMachine.MetricAborted(sum()), 0, over},
		)
	}
	action := awscloudwatchactions.NewSnsAction(l.Topic)
	for _, a := range alarms {
		al := awscloudwatch.NewAlarm(c, jsii.String(a.id), &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String("logferry: " + a.what),
			Metric:             a.metric,
			Threshold:          jsii.Number(a.threshold),
			ComparisonOperator: a.op,
			EvaluationPeriods:  jsii.Number(1),
			// No data means nothing happened (no objects, no executions), not a failure;
			// a stalled queue shows in QueueOldestMessage.
			TreatMissingData: awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		al.AddAlarmAction(action)
	}
	newDashboard(c, s, l)
}

func newDashboard(c constructs.Construct, s settings.Settings, l *Logferry) {
	in := l.Ingest
	graph := func(title string, left, right []awscloudwatch.IMetric) awscloudwatch.IWidget {
		p := &awscloudwatch.GraphWidgetProps{Title: jsii.String(title), Width: jsii.Number(12), Height: jsii.Number(6), Left: &left}
		if len(right) > 0 {
			p.Right = &right
		}
		return awscloudwatch.NewGraphWidget(p)
	}
	failures := []awscloudwatch.IMetric{
		in.Function.MetricErrors(sum()), in.Function.MetricThrottles(sum()),
		emf(s, in, "ParseFailures", "Sum"), emf(s, in, "Retries", "Sum"), emf(s, in, "DeadLettered", "Sum"),
		emf(s, in, "ObjectsFailed", "Sum"), emf(s, in, "ObjectsRejected", "Sum"),
	}
	if s.MirrorURL != "" {
		failures = append(failures, emf(s, in, "MirrorDeadLettered", "Sum"), emf(s, in, "MirrorRetries", "Sum"))
	}
	rows := [][]awscloudwatch.IWidget{
		{
			graph("Shipped: lines and documents (left), bytes (right)",
				[]awscloudwatch.IMetric{emf(s, in, "Lines", "Sum"), emf(s, in, "Documents", "Sum")},
				[]awscloudwatch.IMetric{emf(s, in, "Bytes", "Sum")}),
			graph("Ingest lag (seconds, newest line shipped)", []awscloudwatch.IMetric{emf(s, in, "LagSeconds", "Maximum")}, nil),
		},
		{
			graph("Failures", failures, nil),
			graph("Ingest queue: depth (left), oldest message age s (right)",
				[]awscloudwatch.IMetric{in.Queue.MetricApproximateNumberOfMessagesVisible(maximum()), in.Queue.MetricApproximateNumberOfMessagesNotVisible(maximum())},
				[]awscloudwatch.IMetric{in.Queue.MetricApproximateAgeOfOldestMessage(maximum())}),
		},
		{
			graph("Dead-letter queue depth", []awscloudwatch.IMetric{in.DLQ.MetricApproximateNumberOfMessagesVisible(maximum())}, nil),
			graph("Ingest invocations, continuations and duration ms (right)",
				[]awscloudwatch.IMetric{in.Function.MetricInvocations(sum()), emf(s, in, "Continuations", "Sum")},
				[]awscloudwatch.IMetric{in.Function.MetricDuration(maximum())}),
		},
	}
	if r := l.Reindex; r != nil {
		sm := r.StateMachine
		rows = append(rows, []awscloudwatch.IWidget{
			graph("Reindex executions", []awscloudwatch.IMetric{
				sm.MetricStarted(sum()), sm.MetricSucceeded(sum()), sm.MetricFailed(sum()),
				sm.MetricTimedOut(sum()), sm.MetricAborted(sum()),
			}, nil),
		})
	}
	widgets := make([]*[]awscloudwatch.IWidget, len(rows))
	for i := range rows {
		widgets[i] = &rows[i]
	}
	awscloudwatch.NewDashboard(c, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		Widgets: &widgets,
	})
}
