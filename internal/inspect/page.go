package inspect

import (
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"sync"
)

//go:embed static
var static embed.FS

// pageTemplate is parsed when the page is first asked for, not when any
// jasni command starts (it was the costliest init in the binary).
var pageTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.ParseFS(static, "static/index.html"))
})

// page serves the inspector's page with the run's token in it.
func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = pageTemplate().Execute(w, map[string]string{"Token": s.token, "Version": s.o.Version})
}

func staticFiles() http.Handler {
	sub, _ := fs.Sub(static, "static")
	return http.StripPrefix("/static/", http.FileServerFS(sub))
}
