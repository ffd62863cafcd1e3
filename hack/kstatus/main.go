// Command kstatus-check prints what kstatus (sigs.k8s.io/cli-utils/pkg/kstatus) makes of
// Kubernetes objects: how Flux, kpt and other GitOps tools decide whether what they applied is
// InProgress, Current or Failed. It reads a JSON list of objects on standard input and writes one
// {"name", "status", "message"} per object, in order.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kjson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

// version is set at build time to a digest of this module, so a stale binary is rebuilt.
var version = "dev"

type result struct {
	Name    string `json:"name"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-version" {
		fmt.Println("kstatus-check", version)
		return
	}
	input, err := io.ReadAll(os.Stdin)
	var objects []map[string]interface{}
	if err == nil {
		// Integers as int64, as the API machinery reads them (encoding/json makes them float64).
		err = kjson.Unmarshal(input, &objects)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kstatus-check: reading a JSON list of objects:", err)
		os.Exit(2)
	}
	results := make([]result, 0, len(objects))
	for _, object := range objects {
		u := &unstructured.Unstructured{Object: object}
		computed, err := status.Compute(u)
		if err != nil {
			fmt.Fprintf(os.Stderr, "kstatus-check: %s: %v\n", u.GetName(), err)
			os.Exit(1)
		}
		results = append(results, result{u.GetName(), computed.Status.String(), computed.Message})
	}
	if err := json.NewEncoder(os.Stdout).Encode(results); err != nil {
		fmt.Fprintln(os.Stderr, "kstatus-check:", err)
		os.Exit(1)
	}
}
