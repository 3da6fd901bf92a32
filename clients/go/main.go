// An example client in Go over the Connect protocol: signs up, creates a task, lists the account's
// tasks and gets the new one back, then prints what the server answered as one JSON object. Generate
// the packages under gen first (buf generate --template clients/buf.gen.go.yaml, from the root).
//
//	go run . -url http://localhost:8080 -email me@example.com -password 'a long secret'
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	authv1 "taskmesh/clients/go/gen/taskmesh/auth/v1"
	"taskmesh/clients/go/gen/taskmesh/auth/v1/authv1connect"
	tasksv1 "taskmesh/clients/go/gen/taskmesh/tasks/v1"
	"taskmesh/clients/go/gen/taskmesh/tasks/v1/tasksv1connect"
)

func main() {
	url := flag.String("url", "http://localhost:8080", "the gateway")
	email := flag.String("email", "", "e-mail address of the new account")
	password := flag.String("password", "", "its password (8 characters or more)")
	title := flag.String("title", "Written in Go", "title of the task to create")
	flag.Parse()
	if err := run(context.Background(), *url, *email, *password, *title); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(ctx context.Context, url, email, password, title string) error {
	auth := authv1connect.NewAuthServiceClient(http.DefaultClient, url)
	signedUp, err := auth.SignUp(ctx, connect.NewRequest(&authv1.SignUpRequest{Email: email, Password: password}))
	if err != nil {
		return fmt.Errorf("sign up: %w", err)
	}
	// Every call after sign-up carries the access token (an API token works the same way).
	bearer := connect.WithInterceptors(connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			req.Header().Set("Authorization", "Bearer "+signedUp.Msg.GetAccessToken())
			return next(ctx, req)
		}
	}))
	tasks := tasksv1connect.NewTaskServiceClient(http.DefaultClient, url, bearer)

	created, err := tasks.CreateTask(ctx, connect.NewRequest(&tasksv1.CreateTaskRequest{
		Title:    title,
		Priority: tasksv1.Priority_PRIORITY_HIGH,
		Tags:     []string{"go"},
	}))
	if err != nil {
		return fmt.Errorf("create task: %w", err)
	}
	listed, err := tasks.ListTasks(ctx, connect.NewRequest(&tasksv1.ListTasksRequest{}))
	if err != nil {
		return fmt.Errorf("list tasks: %w", err)
	}
	got, err := tasks.GetTask(ctx, connect.NewRequest(&tasksv1.GetTaskRequest{Id: created.Msg.GetTask().GetId()}))
	if err != nil {
		return fmt.Errorf("get task: %w", err)
	}

	listedJSON := make([]json.RawMessage, 0, len(listed.Msg.GetTasks()))
	for _, task := range listed.Msg.GetTasks() {
		listedJSON = append(listedJSON, asJSON(task))
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"user":    asJSON(signedUp.Msg.GetUser()),
		"created": asJSON(created.Msg.GetTask()),
		"listed":  listedJSON,
		"got":     asJSON(got.Msg.GetTask()),
		// application/proto: the server answered in the Connect protocol (gRPC's is application/grpc)
		"contentType": created.Header().Get("Content-Type"),
	})
}

// asJSON writes a message in the Protobuf JSON mapping, as the server's Connect JSON does.
func asJSON(m proto.Message) json.RawMessage {
	out, err := protojson.Marshal(m)
	if err != nil {
		panic(err)
	}
	return out
}
