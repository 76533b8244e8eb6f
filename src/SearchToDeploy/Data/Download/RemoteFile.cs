namespace SearchToDeploy.Data.Download;

/// <summary>One file to fetch, with its published MD5.</summary>
public sealed record RemoteFile(string Url, string FileName, string Md5);
