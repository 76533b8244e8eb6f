using System.Globalization;
using System.Xml.Linq;
using SearchToDeploy.Core.Io;

namespace SearchToDeploy.Deploy.Validation;

/// <summary>
/// A validation's gates as JUnit XML, the format CI systems (GitHub Actions, GitLab, Jenkins, Azure Pipelines) show as
/// test results: one test case per gate (top-1, top-5), failed when the model is under it, with the measured accuracy in
/// the message; without gates one passing case that records the accuracy. The report's figures ride along as properties.
/// </summary>
public static class JUnitReport
{
    /// <summary>The pipeline's validate stage writes it beside validation.json.</summary>
    public const string FileName = "gates.junit.xml";

    public static XDocument Of(ValidationReport r)
    {
        var cases = new List<XElement>();
        // Test names without this machine's paths: a CI system keeps a test's history by its name, on any runner.
        string dataset = ValidationReport.DatasetNameOf(r.Dataset);
        void Gate(string what, double value, double? gate)
        {
            if (gate is not { } g) return;
            var c = Case($"{what} >= {F(g)}% on {dataset}");
            if (!ValidationReport.Meets(value, g)) c.Add(new XElement("failure", new XAttribute("type", "AccuracyGate"),
                new XAttribute("message", $"{what} {ValidationReport.Percent(value)} is under the gate of {ValidationReport.Percent(g)}; the model must not be deployed")));
            else c.Add(new XElement("system-out", $"{what} {F(value)}%"));
            cases.Add(c);
        }
        Gate("top-1", r.Top1, r.GateTop1);
        Gate("top-5", r.Top5, r.GateTop5);
        if (cases.Count == 0)
        {
            var c = Case($"validation on {dataset} (no gates)");
            c.Add(new XElement("system-out", $"top-1 {F(r.Top1)}%, top-5 {F(r.Top5)}%"));
            cases.Add(c);
        }
        int failures = cases.Count(c => c.Element("failure") is not null);
        var suite = new XElement("testsuite",
            new XAttribute("name", $"s2d validate {Path.GetFileName(r.Model)}"),
            new XAttribute("tests", cases.Count), new XAttribute("failures", failures), new XAttribute("errors", 0),
            new XAttribute("timestamp", Timestamp(r.Created)),
            new XAttribute("time", r.ImagesPerSecond > 0 ? (r.Images / r.ImagesPerSecond).ToString("0.###", CultureInfo.InvariantCulture) : "0"),
            new XElement("properties",
                Property("model", r.Model), Property("dataset", r.Dataset), Property("execution_provider", r.ExecutionProvider),
                Property("images", r.Images.ToString(CultureInfo.InvariantCulture)), Property("top1", F(r.Top1)), Property("top5", F(r.Top5)),
                Property("images_per_second", r.ImagesPerSecond.ToString("0.#", CultureInfo.InvariantCulture))),
            cases);
        return new XDocument(new XDeclaration("1.0", "utf-8", null), new XElement("testsuites",
            new XAttribute("tests", cases.Count), new XAttribute("failures", failures), suite));
    }

    /// <summary>Writes the XML atomically (a temporary file, then a rename).</summary>
    public static void Write(ValidationReport r, string path)
    {
        var xml = Of(r);
        AtomicFile.WriteAllText(path, xml.Declaration + "\n" + xml.Root + "\n");
    }

    private static XElement Case(string name) => new("testcase", new XAttribute("classname", "s2d.validate.gates"), new XAttribute("name", name));

    private static XElement Property(string name, string value) => new("property", new XAttribute("name", name), new XAttribute("value", value));

    /// <summary>The JUnit schema's timestamp: an ISO 8601 date and time in UTC without fraction or zone.</summary>
    private static string Timestamp(string created) =>
        DateTime.TryParse(created, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t)
            ? t.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture) : created;

    private static string F(double x) => x.ToString("0.00", CultureInfo.InvariantCulture);
}
