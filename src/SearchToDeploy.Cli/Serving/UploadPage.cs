using System.Net;

namespace SearchToDeploy.Cli.Serving;

/// <summary>The small page at GET /: pick an image, see the model's top predictions.</summary>
internal static class UploadPage
{
    public static string Html(IReadOnlyDictionary<string, object?> info)
    {
        string title = WebUtility.HtmlEncode($"{info.GetValueOrDefault("file")}: {info.GetValueOrDefault("architecture")}");
        return $$"""
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SearchToDeploy model</title>
<style>body{font-family:sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem}img{max-width:16rem;display:block;margin:1rem 0}
table{border-collapse:collapse}td{padding:.2rem .8rem;border-bottom:1px solid #ddd}.bar{background:#4a7;height:.8rem}</style></head>
<body><h1>SearchToDeploy</h1><p>{{title}}</p>
<input type="file" id="file" accept="image/jpeg,image/png"><img id="preview" alt=""><div id="out"></div>
<p>API: <code>POST /v1/classify</code> (JPEG/PNG bytes, <code>?top=k</code>), <code>GET /v1/model</code>, <code>GET /healthz</code>.</p>
<script>
const out = document.getElementById('out');
document.getElementById('file').addEventListener('change', async e => {
  const f = e.target.files[0]; if (!f) return;
  document.getElementById('preview').src = URL.createObjectURL(f);
  out.textContent = 'classifying...';
  const r = await fetch('/v1/classify?top=5', {method: 'POST', headers: {'Content-Type': f.type || 'application/octet-stream'}, body: f});
  const j = await r.json();
  if (!r.ok) { out.textContent = 'error ' + r.status + ': ' + j.error; return; }
  out.innerHTML = '<table>' + j.predictions.map(p => '<tr><td>' + p.label.replace(/</g, '&lt;') + '</td><td>' + (100 * p.probability).toFixed(1) +
    '%</td><td><div class="bar" style="width:' + (200 * p.probability) + 'px"></div></td></tr>').join('') + '</table><p>' + j.milliseconds + ' ms</p>';
});
</script></body></html>
""";
    }
}
