package main

import (
	"os"

	"github.com/jasni/jasni-cli/internal/app"
)

func main() {
	os.Exit(int(app.Main()))
}
