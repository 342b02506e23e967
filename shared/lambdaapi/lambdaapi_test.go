package lambdaapi

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

const arn = "arn:aws:lambda:us-east-1:000000000000:function:f"

// Through the real AWS SDK Lambda client: results come back as the payload, a function
// error keeps its name (X-Amz-Function-Error and errorType), an unknown function is
// ResourceNotFoundException, and every call is observed.
func TestInvokeThroughTheSDK(t *testing.T) {
	h := lambda.NewHandler(func(ctx context.Context, in map[string]any) (map[string]any, error) {
		if in["fail"] == true {
			return nil, messages.InvokeResponse_Error{Type: "CountMismatch", Message: "a holds 1, b holds 2"}
		}
		return map[string]any{"echo": in["v"]}, nil
	})
	srv, err := Start(Function{ARN: arn, Handler: h})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	var seen []Invocation
	srv.Observe = func(i Invocation) { seen = append(seen, i) }
	c := awslambda.New(awslambda.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: aws.AnonymousCredentials{}})

	out, err := c.Invoke(context.Background(), &awslambda.InvokeInput{FunctionName: aws.String(arn), Payload: []byte(`{"v":7}`)})
	if err != nil || out.FunctionError != nil || string(out.Payload) != `{"echo":7}` || out.StatusCode != 200 {
		t.Fatalf("invoke: %+v %v", out, err)
	}
	out, err = c.Invoke(context.Background(), &awslambda.InvokeInput{FunctionName: aws.String("f"), Payload: []byte(`{"fail":true}`)})
	if err != nil || aws.ToString(out.FunctionError) != "Unhandled" {
		t.Fatalf("function error: %+v %v", out, err)
	}
	var fe struct{ ErrorType, ErrorMessage string }
	if json.Unmarshal(out.Payload, &fe); fe.ErrorType != "CountMismatch" || !strings.Contains(fe.ErrorMessage, "holds 2") {
		t.Errorf("error payload %s", out.Payload)
	}
	_, err = c.Invoke(context.Background(), &awslambda.InvokeInput{FunctionName: aws.String("other"), Payload: []byte(`{}`)})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("unknown function: %v, want ResourceNotFoundException", err)
	}
	if len(seen) != 2 || seen[1].Error == nil || seen[1].Error.Type != "CountMismatch" || string(seen[0].Result) != `{"echo":7}` {
		t.Errorf("observed %+v", seen)
	}
	srv.Drain()
	_, err = c.Invoke(context.Background(), &awslambda.InvokeInput{FunctionName: aws.String(arn), Payload: []byte(`{}`)})
	var tm *types.TooManyRequestsException
	if !errors.As(err, &tm) {
		t.Errorf("after Drain: %v, want TooManyRequestsException", err)
	}
}
