/**
 * Words of seeded prompts. Each slot draws from its list by a Zipf law (rank r has weight 1/r), so a
 * few words are everywhere ("cat", "cinematic") and the tail is rare, as in real prompt logs. The
 * names slot is a long tail of made-up names: the rarest appear a handful of times in a million jobs.
 */
import type { Random } from './random';

const SUBJECTS = `cat dog fox woman man girl boy robot dragon castle city forest mountain ocean car house
  astronaut samurai knight wizard princess owl wolf tiger lion horse bird butterfly flower tree garden
  spaceship planet moon temple bridge lighthouse train ship island village river waterfall desert
  cyberpunk-girl mermaid unicorn phoenix elephant panda rabbit deer bear whale octopus jellyfish
  skyscraper cathedral library cafe market street alley rooftop tower ruins statue mask portrait
  warrior monk pirate cowboy detective scientist chef dancer musician painter child grandmother
  soldier queen king giant fairy ghost skeleton zombie vampire witch elf dwarf goblin troll golem
  mech drone motorcycle bicycle airship submarine balloon lantern clock crown sword shield armor
  teapot cup bottle book chair lamp piano guitar violin camera bonsai cactus mushroom crystal`.split(/\s+/);

const ADJECTIVES = `beautiful red blue golden dark ancient futuristic tiny giant cute majestic mysterious
  glowing neon misty snowy rainy sunny old young happy sad angry calm lonely colorful black white
  silver green purple pink orange yellow shiny rusty broken floating burning frozen hidden abandoned
  enchanted elegant fierce gentle wild sleepy curious brave proud ornate minimal vintage retro
  steampunk gothic baroque translucent iridescent fluffy furry metallic wooden marble porcelain
  velvet silk crystal-clear weathered overgrown luminous ethereal surreal whimsical`.split(/\s+/);

const ACTIONS = `standing sitting running flying walking sleeping dancing reading fighting smiling
  looking jumping swimming eating drinking singing playing painting climbing falling floating
  waiting watching hiding exploring resting crying laughing praying riding holding dreaming`.split(/\s+/);

const SETTINGS = `in snow in the rain at sunset at night in space underwater in a forest on a beach
  in the city in the desert in a field of flowers on a mountain top in a neon alley in a library
  in the clouds in a cave by the river in the kitchen on the moon in a garden at dawn in autumn
  in a ruined temple in a busy market on a rooftop in the fog under the stars in a cyberpunk city
  in a medieval village on a train in a cozy cabin in the jungle on a frozen lake`.split('\n').flatMap((line) => line.trim().split(/ (?=in |at |on |by |under )/));

const STYLES = `cinematic photorealistic anime watercolor oil-painting digital-art 3d-render
  pixel-art concept-art illustration sketch studio-ghibli pixar unreal-engine octane-render
  hyperrealistic impressionist cubist art-nouveau ukiyo-e low-poly isometric vaporwave synthwave
  film-noir polaroid macro-photography long-exposure tilt-shift double-exposure charcoal pastel
  comic-book line-art claymation papercraft stained-glass mosaic graffiti`.split(/\s+/);

const LIGHTING = `soft lighting, dramatic lighting, golden hour, volumetric light, rim light, studio
  lighting, backlit, moody, high contrast, bokeh, 8k, highly detailed, sharp focus, wide angle,
  close-up, bird's eye view, symmetrical, trending on artstation, depth of field, hdr`.split(/,\s*/);

const SYLLABLES = 'ka ri th mo ze lan dor vel qui sha nor fen bri tas gal umi rox ela vin dra sol mer kye ith'.split(' ');

/** Made-up names (Kalrith, Zevelan, …): a long tail of rare words. */
const NAMES = ((): string[] => {
  const names = new Set<string>();
  for (const a of SYLLABLES) for (const b of SYLLABLES) for (const c of ['', ...SYLLABLES.slice(0, 6)]) names.add(`${a}${b}${c}`);
  return [...names];
})();

const SPEECH_LINES = `Welcome to our store, how can I help you today
  Your order has been shipped and will arrive on Tuesday
  Thank you for calling, please hold while we connect you
  The meeting has been moved to three o'clock in the afternoon
  Once upon a time there lived a little fox in a snowy forest
  Please remember to back up your files before the update
  The weather tomorrow will be sunny with a light breeze
  Breaking news: the city council approved the new park
  Take a deep breath and relax your shoulders
  Chapter one: the lighthouse keeper and the storm`.split('\n').map((line) => line.trim());

const CHAT_ASKS = `Draw me a picture of
  Make a short video of
  Generate an image showing
  Can you create a poster with
  Show me what it would look like: 
  Please illustrate`.split('\n').map((line) => line.trim());

const EMBEDDING_DOCS = `refund policy for damaged items
  how to reset my password
  shipping times to europe
  product manual for the blender
  warranty terms and conditions
  customer review: great quality, fast delivery
  support ticket: the app crashes on start
  faq: can I change my order after payment`.split('\n').map((line) => line.trim());

/** A draw by rank with weight 1/(rank+1)^s, by inverse transform over the precomputed cumulative weights. */
export class ZipfList {
  private readonly cumulative: Float64Array;

  constructor(
    readonly words: readonly string[],
    s = 1,
  ) {
    this.cumulative = new Float64Array(words.length);
    let sum = 0;
    for (let i = 0; i < words.length; i++) this.cumulative[i] = sum += 1 / Math.pow(i + 1, s);
  }

  pick(random: Random): string {
    const target = random.next() * this.cumulative[this.cumulative.length - 1]!;
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cumulative[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    return this.words[lo]!;
  }
}

const subjects = new ZipfList(SUBJECTS);
const adjectives = new ZipfList(ADJECTIVES);
const actions = new ZipfList(ACTIONS);
const settings = new ZipfList(SETTINGS);
const styles = new ZipfList(STYLES);
const lighting = new ZipfList(LIGHTING);
const names = new ZipfList(NAMES, 1.1);
const speechLines = new ZipfList(SPEECH_LINES);
const chatAsks = new ZipfList(CHAT_ASKS);
const embeddingDocs = new ZipfList(EMBEDDING_DOCS);

/** An image/video/MJ prompt such as "a glowing fox named Kalrith sleeping in snow, watercolor, soft lighting". */
export function imagePrompt(random: Random): string {
  const parts = [`a ${adjectives.pick(random)} ${subjects.pick(random)}`];
  if (random.chance(0.15)) parts[0] += ` named ${capitalize(names.pick(random))}`;
  if (random.chance(0.4)) parts[0] += ` and a ${adjectives.pick(random)} ${subjects.pick(random)}`;
  if (random.chance(0.7)) parts[0] += ` ${actions.pick(random)}`;
  if (random.chance(0.8)) parts[0] += ` ${settings.pick(random)}`;
  if (random.chance(0.8)) parts.push(styles.pick(random).replace(/-/g, ' '));
  if (random.chance(0.6)) parts.push(lighting.pick(random));
  if (random.chance(0.2)) parts.push(lighting.pick(random));
  return parts.join(', ');
}

export const speechText = (random: Random): string => speechLines.pick(random) + (random.chance(0.3) ? `. ${speechLines.pick(random)}` : '');
export const chatAsk = (random: Random): string => `${chatAsks.pick(random)} ${imagePrompt(random)}`;
export const embeddingDoc = (random: Random): string => embeddingDocs.pick(random);

const capitalize = (word: string): string => word.charAt(0).toUpperCase() + word.slice(1);

/** For the dashboard bench: the most common subject, and a name from the far tail. */
export const COMMON_WORD = SUBJECTS[0]!;
export const RARE_WORD = NAMES[Math.floor(NAMES.length * 0.6)]!;
