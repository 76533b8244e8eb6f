namespace SearchToDeploy;

/// <summary>
/// Bad input from the user: a missing or malformed file, folder or argument. The message names the file or
/// argument and says what was expected. The command-line program turns it into exit code 2.
/// </summary>
public class InputException : Exception
{
    public InputException(string message) : base(message) { }
    public InputException(string message, Exception inner) : base(message, inner) { }
}
