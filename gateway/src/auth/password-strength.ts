import { invalidArgument, onFirstUse } from "@taskmesh/kit";

// zxcvbn's score 3 = about 10^8 guesses or more ("safely unguessable" against online attacks and a
// slow hash); its dictionaries hold the most used passwords of public breaches, common names and words.
const MIN_SCORE = 3;
// The estimate's cost grows with length; a password this long is not guessable by pattern anyway.
const MAX_ESTIMATED_LENGTH = 64;

// Its dictionaries are ~7.5 MiB of heap, loaded by the first sign-up or password reset: a server
// whose users are made never needs them.
const estimator = onFirstUse(async () => {
  const [{ ZxcvbnFactory }, { adjacencyGraphs, dictionary }] = await Promise.all([import("@zxcvbn-ts/core"), import("@zxcvbn-ts/language-common")]);
  return new ZxcvbnFactory({ dictionary, graphs: adjacencyGraphs, maxLength: MAX_ESTIMATED_LENGTH });
});

const WHY: Record<string, string> = {
  topTen: "it is one of the ten most used passwords",
  topHundred: "it is one of the hundred most used passwords",
  common: "it is a commonly used password",
  similarToCommon: "it is close to a commonly used password",
  userInputs: "it contains your e-mail address",
  straightRow: "it is a row of keys",
  keyPattern: "it is a keyboard pattern",
  simpleRepeat: "it repeats characters",
  extendedRepeat: "it repeats a pattern",
  sequences: "it is a sequence such as abc or 1234",
  recentYears: "it is a recent year",
  dates: "it is a date",
  wordByItself: "it is a single word",
  namesByThemselves: "it is a name",
  commonNames: "it is a common name",
};

/** INVALID_ARGUMENT on `field` when the password is easy to guess (common, breached, a pattern, the e-mail). */
export async function checkPasswordStrength(password: string, field: string, email: string): Promise<void> {
  const result = (await estimator()).check(password.slice(0, MAX_ESTIMATED_LENGTH), [email, email.split("@")[0] ?? ""]);
  if (result.score >= MIN_SCORE) return;
  const why = (result.feedback.warning && WHY[result.feedback.warning]) || "it could be guessed quickly";
  throw invalidArgument([{ field, ruleId: `${field}.strength`, message: `this password is too easy to guess (${why}): use a few unrelated words or a longer phrase` }]);
}
