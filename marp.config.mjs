// Marp settings for the course decks in slides/ (make slides; npx marp --server slides).
// KaTeX fonts are served from slides/fonts/katex/, copied here from the pinned npm package, so the math renders
// in the right fonts offline (a classroom with no network): without a local path Marp loads them from a CDN.
import { cpSync, existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = dirname(fileURLToPath(import.meta.url))
const katexFonts = join(root, 'node_modules', 'katex', 'dist', 'fonts')
const slideFonts = join(root, 'slides', 'fonts', 'katex')
if (existsSync(katexFonts) && !existsSync(join(slideFonts, 'KaTeX_Main-Regular.woff2'))) {
  cpSync(katexFonts, slideFonts, { recursive: true })
}

export default {
  // relative to each deck's HTML, which is written beside the deck in slides/ (and to the server's root, slides/)
  options: { math: { lib: 'katex', katexFontPath: 'fonts/katex/' } },
  themeSet: [join(root, 'slides', 'themes')],  // the course theme, `theme: wmcourse` in each deck
  allowLocalFiles: true,
  html: true,
}
